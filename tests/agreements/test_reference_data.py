import pytest
from django.contrib.auth.models import Group

from agreements.models import Pairing, Province, RecipientUnit
from projects.models import Category, FacilityType

pytestmark = pytest.mark.django_db


def test_the_nineteen_donor_provinces_are_installed_in_code_order():
    codes = list(Province.objects.order_by("code").values_list("code", flat=True))
    assert len(codes) == 19
    assert codes[0] == "110000" and codes[-1] == "440300"
    assert Province.objects.get(code="440300").name == "深圳市"
    assert Province.objects.get(code="110000").union_name == "北京市总工会"


def test_recipient_tree_holds_region_corps_prefectures_divisions_counties_and_regiments():
    region = RecipientUnit.objects.get(code="650000")
    corps = RecipientUnit.objects.get(code="BT")
    assert region.parent is None and corps.parent is None
    assert RecipientUnit.objects.filter(parent=region, level="prefecture").count() == 14
    assert RecipientUnit.objects.filter(parent=corps, level="division").count() == 14
    assert RecipientUnit.objects.get(code="BT12-221").parent.code == "BT12"
    assert RecipientUnit.objects.get(code="653101").parent.code == "653100"
    # 塔城 and 阿勒泰 report directly to the region, so 伊犁's subtree is 伊犁州直 alone.
    assert RecipientUnit.objects.get(code="654200").parent == region
    assert [u.code for u in RecipientUnit.objects.get(code="654000").subtree()] == ["654000"]


def test_subtree_is_one_query(django_assert_num_queries):
    kashgar = RecipientUnit.objects.get(code="653100")
    with django_assert_num_queries(1):
        codes = [u.code for u in kashgar.subtree()]
    assert "653101" in codes and "653131" in codes and "653200" not in codes
    assert len(codes) == 13


def test_moving_a_unit_moves_its_subtree():
    county = RecipientUnit.objects.create(
        code="653101-01",
        name="街道",
        system="xuar",
        level="county",
        parent=RecipientUnit.objects.get(code="653101"),
    )
    city = RecipientUnit.objects.get(code="653101")
    city.parent = RecipientUnit.objects.get(code="653200")
    city.save()
    county.refresh_from_db()
    assert county.path == "/650000/653200/653101/653101-01/"


def test_pairings_follow_the_counterpart_map():
    assert Pairing.objects.count() == 55
    beijing = set(Pairing.objects.filter(province__code="110000").values_list("recipient__code", flat=True))
    assert beijing == {"653201", "653221", "653222", "653224", "BT14"}
    assert Pairing.objects.get(province__code="320000", recipient__code="654000").note == "伊犁州直属县市"
    assert Pairing.objects.get(province__code="430000", recipient__code="BT12-221")


def test_categories_and_facility_types_are_editable_data():
    assert list(Category.objects.filter(parent__isnull=True).values_list("code", flat=True)) == list("ABCDZ")
    assert Category.objects.filter(parent__isnull=False).count() == 21
    assert Category.objects.get(code="C02").parent.code == "C"
    assert list(FacilityType.objects.values_list("code", flat=True)) == [f"F0{i}" for i in range(1, 10)]


def test_role_groups_carry_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"全国总工会", "管理人员", "省市填报员", "受援单位填报员"} <= names
    manager = set(Group.objects.get(name="管理人员").permissions.values_list("codename", flat=True))
    assert "view_project" in manager and "change_project" not in manager and "view_all_provinces" in manager
    staff = set(Group.objects.get(name="省市填报员").permissions.values_list("codename", flat=True))
    assert {"add_project", "change_project", "import_project"} <= staff
    assert "view_all_provinces" not in staff and "change_province" not in staff
