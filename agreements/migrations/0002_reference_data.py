"""Installs the reference data of DESIGN section 2: the 19 donor provinces, the recipient-unit tree down to
the counties and regiments the pairings name, and the pairings themselves. All of it stays editable."""

import datetime

from django.db import migrations

PROVINCES = [
    ("110000", "北京市"), ("120000", "天津市"), ("130000", "河北省"), ("140000", "山西省"),
    ("210000", "辽宁省"), ("220000", "吉林省"), ("230000", "黑龙江省"), ("310000", "上海市"),
    ("320000", "江苏省"), ("330000", "浙江省"), ("340000", "安徽省"), ("350000", "福建省"),
    ("360000", "江西省"), ("370000", "山东省"), ("410000", "河南省"), ("420000", "湖北省"),
    ("430000", "湖南省"), ("440000", "广东省"), ("440300", "深圳市"),
]

# (code, name, system, level, parent code)
UNITS = [
    ("650000", "新疆维吾尔自治区", "xuar", "region", None),
    ("650100", "乌鲁木齐市", "xuar", "prefecture", "650000"),
    ("650200", "克拉玛依市", "xuar", "prefecture", "650000"),
    ("650400", "吐鲁番市", "xuar", "prefecture", "650000"),
    ("650500", "哈密市", "xuar", "prefecture", "650000"),
    ("652300", "昌吉回族自治州", "xuar", "prefecture", "650000"),
    ("652700", "博尔塔拉蒙古自治州", "xuar", "prefecture", "650000"),
    ("652800", "巴音郭楞蒙古自治州", "xuar", "prefecture", "650000"),
    ("652900", "阿克苏地区", "xuar", "prefecture", "650000"),
    ("653000", "克孜勒苏柯尔克孜自治州", "xuar", "prefecture", "650000"),
    ("653100", "喀什地区", "xuar", "prefecture", "650000"),
    ("653200", "和田地区", "xuar", "prefecture", "650000"),
    ("654000", "伊犁哈萨克自治州", "xuar", "prefecture", "650000"),
    ("654200", "塔城地区", "xuar", "prefecture", "650000"),
    ("654300", "阿勒泰地区", "xuar", "prefecture", "650000"),
    ("652302", "阜康市", "xuar", "county", "652300"),
    ("653001", "阿图什市", "xuar", "county", "653000"),
    ("653022", "阿克陶县", "xuar", "county", "653000"),
    ("653023", "阿合奇县", "xuar", "county", "653000"),
    ("653024", "乌恰县", "xuar", "county", "653000"),
    ("653101", "喀什市", "xuar", "county", "653100"),
    ("653121", "疏附县", "xuar", "county", "653100"),
    ("653122", "疏勒县", "xuar", "county", "653100"),
    ("653123", "英吉沙县", "xuar", "county", "653100"),
    ("653124", "泽普县", "xuar", "county", "653100"),
    ("653125", "莎车县", "xuar", "county", "653100"),
    ("653126", "叶城县", "xuar", "county", "653100"),
    ("653127", "麦盖提县", "xuar", "county", "653100"),
    ("653128", "岳普湖县", "xuar", "county", "653100"),
    ("653129", "伽师县", "xuar", "county", "653100"),
    ("653130", "巴楚县", "xuar", "county", "653100"),
    ("653131", "塔什库尔干塔吉克自治县", "xuar", "county", "653100"),
    ("653201", "和田市", "xuar", "county", "653200"),
    ("653221", "和田县", "xuar", "county", "653200"),
    ("653222", "墨玉县", "xuar", "county", "653200"),
    ("653223", "皮山县", "xuar", "county", "653200"),
    ("653224", "洛浦县", "xuar", "county", "653200"),
    ("653225", "策勒县", "xuar", "county", "653200"),
    ("653226", "于田县", "xuar", "county", "653200"),
    ("653227", "民丰县", "xuar", "county", "653200"),
    ("654301", "阿勒泰市", "xuar", "county", "654300"),
    ("654321", "布尔津县", "xuar", "county", "654300"),
    ("654322", "富蕴县", "xuar", "county", "654300"),
    ("654323", "福海县", "xuar", "county", "654300"),
    ("654324", "哈巴河县", "xuar", "county", "654300"),
    ("654325", "青河县", "xuar", "county", "654300"),
    ("654326", "吉木乃县", "xuar", "county", "654300"),
    ("BT", "新疆生产建设兵团", "xpcc", "corps", None),
    ("BT01", "第一师（阿拉尔市）", "xpcc", "division", "BT"),
    ("BT02", "第二师（铁门关市）", "xpcc", "division", "BT"),
    ("BT03", "第三师（图木舒克市）", "xpcc", "division", "BT"),
    ("BT04", "第四师（可克达拉市）", "xpcc", "division", "BT"),
    ("BT05", "第五师（双河市）", "xpcc", "division", "BT"),
    ("BT06", "第六师（五家渠市）", "xpcc", "division", "BT"),
    ("BT07", "第七师（胡杨河市）", "xpcc", "division", "BT"),
    ("BT08", "第八师（石河子市）", "xpcc", "division", "BT"),
    ("BT09", "第九师（白杨市）", "xpcc", "division", "BT"),
    ("BT10", "第十师（北屯市）", "xpcc", "division", "BT"),
    ("BT11", "第十一师", "xpcc", "division", "BT"),
    ("BT12", "第十二师", "xpcc", "division", "BT"),
    ("BT13", "第十三师（新星市）", "xpcc", "division", "BT"),
    ("BT14", "第十四师（昆玉市）", "xpcc", "division", "BT"),
    ("BT12-221", "第十二师二二一团", "xpcc", "regiment", "BT12"),
    ("BT12-222", "第十二师二二二团", "xpcc", "regiment", "BT12"),
]

# (province code, recipient code, note) at the finest level the government counterpart map gives.
PAIRINGS = [
    ("110000", "653201", ""), ("110000", "653221", ""), ("110000", "653222", ""),
    ("110000", "653224", ""), ("110000", "BT14", ""),
    ("120000", "653227", ""), ("120000", "653225", ""), ("120000", "653226", ""),
    ("130000", "652800", ""), ("130000", "BT02", ""),
    ("140000", "652302", ""), ("140000", "BT06", ""), ("140000", "BT12-222", ""),
    ("210000", "654200", ""), ("210000", "BT08", ""), ("210000", "BT09", ""),
    ("220000", "654301", ""), ("220000", "654324", ""), ("220000", "654321", ""),
    ("220000", "654326", ""),
    ("230000", "654323", ""), ("230000", "654322", ""), ("230000", "654325", ""),
    ("230000", "BT10", ""),
    ("310000", "653130", ""), ("310000", "653125", ""), ("310000", "653124", ""),
    ("310000", "653126", ""),
    ("320000", "654000", "伊犁州直属县市"), ("320000", "653001", ""), ("320000", "653024", ""),
    ("320000", "653023", ""), ("320000", "BT04", ""), ("320000", "BT07", ""),
    ("330000", "652900", ""), ("330000", "BT01", ""),
    ("340000", "653223", ""),
    ("350000", "652300", "昌吉州（阜康市以外）"),
    ("360000", "653022", ""),
    ("370000", "653122", ""), ("370000", "653123", ""), ("370000", "653127", ""),
    ("370000", "653128", ""), ("370000", "BT12", ""),
    ("410000", "650500", ""), ("410000", "BT13", ""),
    ("420000", "652700", ""), ("420000", "BT05", ""),
    ("430000", "650400", ""), ("430000", "BT12-221", ""),
    ("440000", "653121", ""), ("440000", "653129", ""), ("440000", "BT03", ""),
    ("440300", "653101", ""), ("440300", "653131", ""),
]

VALID_FROM = datetime.date(2021, 2, 1)
VALID_TO = datetime.date(2025, 12, 31)


def install(apps, schema_editor):
    Province = apps.get_model("agreements", "Province")
    RecipientUnit = apps.get_model("agreements", "RecipientUnit")
    Pairing = apps.get_model("agreements", "Pairing")
    for order, (code, name) in enumerate(PROVINCES, start=1):
        Province.objects.update_or_create(
            code=code, defaults={"name": name, "union_name": f"{name}总工会", "order": order}
        )
    units = {}
    for code, name, system, level, parent_code in UNITS:
        parent = units.get(parent_code)
        path = f"{parent.path if parent else '/'}{code}/"
        units[code], _ = RecipientUnit.objects.update_or_create(
            code=code,
            defaults={"name": name, "system": system, "level": level, "parent": parent, "path": path},
        )
    provinces = {p.code: p for p in Province.objects.all()}
    for province_code, unit_code, note in PAIRINGS:
        Pairing.objects.update_or_create(
            province=provinces[province_code],
            recipient=units[unit_code],
            defaults={"note": note, "valid_from": VALID_FROM, "valid_to": VALID_TO},
        )


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
