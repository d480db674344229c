"""Installs the two-level project categories and the facility types of DESIGN section 2 (editable data)."""

from django.db import migrations

TOP = [("A", "阵地建设类"), ("B", "能力提升类"), ("C", "职工生活类"), ("D", "宣传教育类"), ("Z", "其他")]
SECOND = [
    ("A01", "户外劳动者服务站点"), ("A02", "职工书屋"), ("A03", "劳模创新工作室"), ("A04", "工人文化宫"),
    ("A05", "职工之家"), ("A06", "职工托幼/女职工关爱"),
    ("B01", "新疆工匠人才培训"), ("B02", "产业扶持"), ("B03", "工会干部培训"), ("B04", "技能交流"),
    ("C01", "送温暖"), ("C02", "金秋助学"), ("C03", "困难职工帮扶"), ("C04", "消费帮扶"),
    ("C05", "疗休养"), ("C06", "医疗互助"),
    ("D01", "主题宣传教育"), ("D02", "文化活动"), ("D03", "国家通用语言培训"), ("D04", "工运史馆"),
    ("Z01", "其他项目"),
]
FACILITIES = [
    ("F01", "模范职工之家"), ("F02", "劳模创新示范工作室"), ("F03", "职工书屋"), ("F04", "户外劳动者服务站"),
    ("F05", "职工托幼服务站"), ("F06", "女职工哺乳室"), ("F07", "工人文化宫"), ("F08", "职工服务中心"),
    ("F09", "高原职工氧吧"),
]


def install(apps, schema_editor):
    Category = apps.get_model("projects", "Category")
    FacilityType = apps.get_model("projects", "FacilityType")
    tops = {}
    for order, (code, name) in enumerate(TOP, start=1):
        tops[code], _ = Category.objects.update_or_create(
            code=code, defaults={"name": name, "order": order, "parent": None}
        )
    for order, (code, name) in enumerate(SECOND, start=1):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "order": order, "parent": tops[code[0]]}
        )
    for order, (code, name) in enumerate(FACILITIES, start=1):
        FacilityType.objects.update_or_create(code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
