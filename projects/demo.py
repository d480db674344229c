"""The deterministic demo: the programme as published in mid-2022 (DESIGN section 1).

Same data on every run (a seeded generator, no clock). The figures it must reproduce: 31 counted
agreements over 19 provinces (12 pledging over 2,000 万元), 1,689 live projects worth 3.705 亿元 —
A 762 / 1.105 亿, B 622 / 9,750 万, C 266 / 6,350 万, and the article's "等等" as 39 large D and Z projects
worth 9,900 万 — 39,400 person-times helped, and the facilities 257/10/54/107/26/23 on live A projects.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from agreements import services
from agreements.models import Agreement, Pairing, Province, RecipientUnit, StaffProfile
from projects import demo_reports
from projects.models import (
    Category,
    ClosedPeriod,
    Disbursement,
    FacilityOutput,
    FacilityType,
    ProgressReport,
    Project,
    ReportPhoto,
)

DEMO_PASSWORD = "aidtracker-demo"

# Pledged amounts per province, in yuan (sum 4.12 亿); 12 provinces above 2,000 万.
PLEDGED = {
    "110000": 45_000_000, "120000": 12_000_000, "130000": 22_000_000, "140000": 25_000_000,
    "210000": 24_000_000, "220000": 8_000_000, "230000": 15_000_000, "310000": 30_000_000,
    "320000": 35_000_000, "330000": 28_000_000, "340000": 6_000_000, "350000": 21_000_000,
    "360000": 5_000_000, "370000": 26_000_000, "410000": 18_000_000, "420000": 22_000_000,
    "430000": 16_000_000, "440000": 30_000_000, "440300": 24_000_000,
}  # fmt: skip
SHORT = {
    "110000": "BJ", "120000": "TJ", "130000": "HE", "140000": "SX", "210000": "LN", "220000": "JL",
    "230000": "HL", "310000": "SH", "320000": "JS", "330000": "ZJ", "340000": "AH", "350000": "FJ",
    "360000": "JX", "370000": "SD", "410000": "HA", "420000": "HB", "430000": "HN", "440000": "GD",
    "440300": "SZ",
}  # fmt: skip

# Live projects per second-level category, and each category's total budget in yuan.
PLAN = {
    "A": (110_500_000, {"A01": 180, "A02": 110, "A03": 30, "A04": 22, "A05": 370, "A06": 50}),
    "B": (97_500_000, {"B01": 250, "B02": 120, "B03": 180, "B04": 72}),
    "C": (63_500_000, {"C01": 80, "C02": 60, "C03": 70, "C04": 30, "C05": 16, "C06": 10}),
    "D": (60_000_000, {"D01": 10, "D02": 8, "D03": 6, "D04": 6}),
    "Z": (39_000_000, {"Z01": 9}),
}
# Person-times helped per top-level category (39,400 in all, mostly the 帮扶慰问 of C).
BENEFICIARIES = {"A": 0, "B": 2_500, "C": 36_500, "D": 400, "Z": 0}
# Facilities built: (facility type, sub-category whose projects carry them, how many).
FACILITIES = [("F04", "A01", 107), ("F03", "A02", 54), ("F02", "A03", 10), ("F07", "A04", 5),
              ("F01", "A05", 257), ("F05", "A06", 26), ("F06", "A06", 23)]  # fmt: skip

# The article's examples: (province, sub-category, name, recipient, extra facility).
EXAMPLES = [
    ("310000", "C01", "“点亮微心愿”活动", "653125", None),
    ("330000", "C05", "跨省职工疗休养", "652900", None),
    ("370000", "C03", "驻村工作队经费补助", "653122", None),
    ("440000", "C06", "援助职工医疗互保", "653121", None),
    ("410000", "B01", "“名师带徒”“工匠带兵”培养", "650500", None),
    ("430000", "B02", "“一户一产业工人”培养工程（吐鲁番）", "650400", None),
    ("360000", "B04", "景德镇陶瓷工匠与新疆土陶艺人技术交流", "653022", None),
    ("420000", "A04", "双河市职工服务中心建设", "BT05", "F08"),
    ("130000", "A04", "职工文化活动中心改扩建", "652800", None),
    ("220000", "B02", "金山工匠手工艺品展示推广中心", "654301", None),
    ("440300", "A01", "边境执勤点高原职工氧吧", "653131", "F09"),
    ("120000", "D02", "民族团结一家亲联谊活动", "653227", None),
    ("230000", "D04", "工运史馆建设", "BT10", None),
    ("320000", "D03", "国家通用语言培训", "654000", None),
    ("340000", "C03", "在皖新疆籍少数民族职工生活困难帮扶", "653223", None),
]
NAME_PATTERNS = {
    "A01": "{unit}户外劳动者服务站点建设", "A02": "{unit}职工书屋建设", "A03": "{unit}劳模创新工作室建设",
    "A04": "{unit}工人文化宫改扩建", "A05": "{unit}模范职工之家建设", "A06": "{unit}职工托幼服务站和女职工关爱室",
    "B01": "{unit}新疆工匠人才培训班", "B02": "{unit}产业工人技能扶持", "B03": "{unit}工会干部培训班",
    "B04": "{unit}职工技能交流活动", "C01": "{unit}送温暖慰问", "C02": "{unit}金秋助学",
    "C03": "{unit}困难职工帮扶", "C04": "{unit}消费帮扶", "C05": "{unit}劳模职工疗休养",
    "C06": "{unit}职工医疗互助", "D01": "{unit}“中国夢·劳动美”主题宣传教育", "D02": "{unit}职工文化活动",
    "D03": "{unit}国家通用语言培训", "D04": "{unit}工运史馆", "Z01": "{unit}工会综合援助项目",
}  # fmt: skip
CANCELLED = [("B03", 3), ("C04", 3), ("D01", 1), ("A02", 2)]  # not live: no effect on the figures

USERS = [
    ("national", services.ROLE_NATIONAL, None, None, True),
    ("manager", services.ROLE_MANAGER, None, None, False),
    ("staff_bj", services.ROLE_PROVINCE, "110000", None, False),
    ("staff_hb", services.ROLE_PROVINCE, "420000", None, False),
    ("recipient_ks", services.ROLE_RECIPIENT, None, "653100", False),
]

CENT = Decimal("0.01")


def split_cents(total_yuan, weights):
    """Split an amount into parts proportional to `weights`, exact to the cent."""
    total = int(total_yuan * 100)
    scale = sum(weights)
    parts = [int(total * w / scale) for w in weights]
    for i in range(total - sum(parts)):
        parts[i % len(parts)] += 1
    return [Decimal(p) / 100 for p in parts]


def is_empty():
    return not (Agreement.objects.exists() or Project.objects.exists())


@transaction.atomic
def clear():
    """Remove every agreement, project and their history, and the demo users."""
    for photo in ReportPhoto.objects.all():
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    ProgressReport.objects.all().delete()  # with their photos
    FacilityOutput.objects.all().delete()
    Disbursement.objects.all().delete()
    Project.objects.all().delete()
    Agreement.objects.all().delete()
    ClosedPeriod.objects.all().delete()
    for model in (ProgressReport, FacilityOutput, Disbursement, Project, Agreement, ClosedPeriod):
        model.history.all().delete()
    get_user_model().objects.filter(username__in=[u[0] for u in USERS]).delete()


def _common_ancestor(units):
    paths = [u.path.strip("/").split("/") for u in units]
    common = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return RecipientUnit.objects.get(code=common[-1])


def _agreements(rng):
    """31 agreements: one with the Xinjiang region side of each pairing, one with the corps side."""
    pairings = {}
    for pairing in Pairing.objects.select_related("province", "recipient"):
        pairings.setdefault(pairing.province.code, []).append(pairing.recipient)
    agreements = []
    targets = {}
    for province in Province.objects.order_by("code"):
        units = pairings[province.code]
        sides = [[u for u in units if u.system == s] for s in ("xuar", "xpcc")]
        sides = [side for side in sides if side]
        pledge_parts = split_cents(PLEDGED[province.code], [3, 1][: len(sides)])
        for number, (side, pledged) in enumerate(zip(sides, pledge_parts, strict=True), start=1):
            recipient = _common_ancestor(side)
            signed = datetime.date(2021, 3 + rng.randrange(9), 1 + rng.randrange(28))
            agreement = Agreement(
                code=f"{SHORT[province.code]}-2021-{number:02d}",
                title=f"{province.union_name}与{recipient.name}总工会对口援疆协议",
                province=province,
                donor_unit=province.union_name,
                recipient=recipient,
                signed_on=signed,
                starts_on=signed,
                ends_on=datetime.date(2025, 12, 31),
                pledged=pledged,
                status=Agreement.Status.COMPLETED if rng.random() < 0.25 else Agreement.Status.SIGNED,
            )
            agreements.append(agreement)
            targets[agreement.code] = side
    return agreements, targets


def _status_and_dates(rng):
    start = datetime.date(2021, 4, 1) + datetime.timedelta(days=rng.randrange(1095))
    end = start + datetime.timedelta(days=90 + rng.randrange(450))
    if end < datetime.date(2022, 8, 1):
        status = Project.Status.COMPLETED
    elif start < datetime.date(2022, 8, 1):
        status = Project.Status.IN_PROGRESS
    else:
        status = Project.Status.PLANNED
    return status, start, end


def build(rng=None):
    """Create the demo rows (on an empty database) and return the number of projects."""
    rng = rng or random.Random(20220819)
    agreements, targets = _agreements(rng)
    Agreement.objects.bulk_create(agreements)
    agreements = list(Agreement.objects.select_related("province").order_by("code"))
    by_province = {}
    for agreement in agreements:
        by_province.setdefault(agreement.province.code, []).append(agreement)
    weights = [float(a.pledged) for a in agreements]
    categories = {c.code: c for c in Category.objects.all()}
    facility_types = {f.code: f for f in FacilityType.objects.all()}
    units = {u.code: u for u in RecipientUnit.objects.all()}

    specs = []  # (sub-category code, agreement, name, recipient, extra facility, live)
    examples = {}
    for province_code, sub, name, unit_code, extra in EXAMPLES:
        examples.setdefault(sub, []).append((province_code, name, unit_code, extra))
    for _top, (_, subs) in PLAN.items():
        for sub, count in subs.items():
            named = examples.get(sub, [])
            for i in range(count):
                if i < len(named):
                    province_code, name, unit_code, extra = named[i]
                    unit = units[unit_code]
                    agreement = next(
                        (a for a in by_province[province_code] if unit.path.startswith(a.recipient.path)),
                        by_province[province_code][0],
                    )
                else:
                    agreement = rng.choices(agreements, weights=weights)[0]
                    unit = rng.choice(targets[agreement.code])
                    name, extra = NAME_PATTERNS[sub].format(unit=unit.name), None
                specs.append((sub, agreement, name, unit, extra, True))
    for sub, count in CANCELLED:
        for _ in range(count):
            agreement = rng.choices(agreements, weights=weights)[0]
            unit = rng.choice(targets[agreement.code])
            specs.append((sub, agreement, NAME_PATTERNS[sub].format(unit=unit.name), unit, None, False))

    budgets, people = {}, {}
    for top, (total, _) in PLAN.items():
        members = [i for i, s in enumerate(specs) if s[0][0] == top and s[5]]
        for i, amount in zip(
            members, split_cents(total, [rng.uniform(0.5, 1.5) for _ in members]), strict=True
        ):
            budgets[i] = amount
        if BENEFICIARIES[top]:
            shares = split_cents(BENEFICIARIES[top], [rng.uniform(0.5, 1.5) for _ in members])
            for i, share in zip(members, shares, strict=True):
                people[i] = int(share)
            people[members[0]] += BENEFICIARIES[top] - sum(people[i] for i in members)

    projects, counters = [], {}
    for i, (sub, agreement, name, unit, _, live) in enumerate(specs):
        counters[agreement.code] = counters.get(agreement.code, 0) + 1
        status, start, end = _status_and_dates(rng)
        projects.append(
            Project(
                code=f"{agreement.code}-{counters[agreement.code]:03d}",
                name=name,
                agreement=agreement,
                category=categories[sub],
                recipient=unit,
                status=status if live else Project.Status.CANCELLED,
                budget=budgets.get(i, Decimal(rng.randrange(50_000, 300_000))),
                beneficiaries=people.get(i, 0),
                start_date=start,
                end_date=end,
                contact=f"{agreement.province.union_name}援疆办",
            )
        )
    projects = bulk_create_with_history(projects, Project, batch_size=500)
    projects = list(Project.objects.order_by("pk"))

    disbursements = []
    for project in projects:
        if project.status == Project.Status.PLANNED:
            continue
        share = (
            Decimal("1")
            if project.status == Project.Status.COMPLETED
            else Decimal(rng.randrange(30, 80)) / 100
        )
        if project.status == Project.Status.CANCELLED:
            share = Decimal("0.1")
        paid = (project.budget * share).quantize(CENT)
        parts = split_cents(paid, [rng.uniform(0.5, 1.5) for _ in range(1 + rng.randrange(3))])
        for n, amount in enumerate(parts, start=1):
            disbursements.append(
                Disbursement(
                    project=project,
                    date=project.start_date + datetime.timedelta(days=30 * n),
                    amount=amount,
                    reference=f"PZ-{project.code}-{n}",
                )
            )
    bulk_create_with_history(disbursements, Disbursement, batch_size=1000)

    live_by_sub = {}
    for project, spec in zip(projects, specs, strict=True):
        if spec[5]:
            live_by_sub.setdefault(spec[0], []).append((project, spec))
    outputs = []
    for facility, sub, count in FACILITIES:
        candidates = [p for p, spec in live_by_sub[sub] if spec[4] is None]
        offset = 26 if facility == "F06" else 0  # 托幼 and 哺乳室 on different A06 projects
        for project in (candidates[offset:] + candidates[:offset])[:count]:
            outputs.append(
                FacilityOutput(project=project, facility_type=facility_types[facility], quantity=1)
            )
    for entries in live_by_sub.values():
        for project, spec in entries:
            if spec[4]:
                outputs.append(
                    FacilityOutput(project=project, facility_type=facility_types[spec[4]], quantity=1)
                )
    bulk_create_with_history(outputs, FacilityOutput, batch_size=1000)
    return len(projects)


def create_users():
    for username, role, province, recipient, superuser in USERS:
        services.create_staff_user(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            province=Province.objects.get(code=province) if province else None,
            recipient=RecipientUnit.objects.get(code=recipient) if recipient else None,
            superuser=superuser,
        )
    StaffProfile.objects.filter(user__username__in=[u[0] for u in USERS]).update(must_change_password=False)


@transaction.atomic
def load():
    """Fill an empty database with the demo and its users."""
    count = build()
    create_users()
    demo_reports.build_reports()
    return count
