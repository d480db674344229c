"""A small data set for the dashboard tests whose figures are worked out by hand.

Beijing: two counted agreements and a draft; P1 (A01) has three disbursements and two outputs, P2 (B01) is
completed with two disbursements, P3 (C01) is cancelled. Hubei: one agreement, P4 (A05) with outputs and two
disbursements in different quarters. Several disbursements and outputs per project catch join inflation.
"""

import datetime
from decimal import Decimal

from projects.models import Disbursement, FacilityOutput, FacilityType
from tests.conftest import make_agreement, make_project


def pay(project, amount, day, ref):
    return Disbursement.objects.create(project=project, amount=Decimal(amount), date=day, reference=ref)


def build(suffix=""):
    d = datetime.date
    bj1 = make_agreement(f"BJ-1{suffix}", province="110000", recipient="653200", pledged="3000000.00")
    bj2 = make_agreement(
        f"BJ-2{suffix}", province="110000", recipient="BT14", pledged="1000000.50", status="completed"
    )
    make_agreement(
        f"BJ-3{suffix}", province="110000", recipient="653200", pledged="9999999.00", status="draft"
    )
    hb = make_agreement(f"HB-1{suffix}", province="420000", recipient="652700", pledged="2000000.00")
    p1 = make_project(
        f"P1{suffix}", bj1, category="A01", recipient="653201", budget="100000.10", beneficiaries=10
    )
    p2 = make_project(
        f"P2{suffix}",
        bj2,
        category="B01",
        budget="200000.00",
        status="completed",
        beneficiaries=20,
        start_date=d(2021, 6, 1),
    )
    p3 = make_project(
        f"P3{suffix}", bj1, category="C01", budget="50000.00", status="cancelled", beneficiaries=5
    )
    p4 = make_project(
        f"P4{suffix}", hb, category="A05", budget="300000.00", status="planned", beneficiaries=7
    )
    pay(p1, "10000.00", d(2022, 3, 5), "V1")
    pay(p1, "20000.00", d(2022, 5, 5), "V2")
    pay(p1, "5000.55", d(2022, 12, 31), "V3")
    pay(p2, "150000.00", d(2021, 7, 1), "V1")
    pay(p2, "50000.00", d(2021, 10, 1), "V2")
    pay(p3, "1000.00", d(2022, 4, 1), "V1")
    pay(p4, "100000.00", d(2022, 1, 10), "V1")
    pay(p4, "0.01", d(2023, 1, 10), "V2")
    kinds = {kind.code: kind for kind in FacilityType.objects.all()}
    FacilityOutput.objects.create(project=p1, facility_type=kinds["F04"], quantity=2)
    FacilityOutput.objects.create(project=p1, facility_type=kinds["F03"], quantity=1)
    FacilityOutput.objects.create(project=p3, facility_type=kinds["F03"], quantity=4)
    FacilityOutput.objects.create(project=p4, facility_type=kinds["F01"], quantity=3)
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "bj1": bj1, "bj2": bj2, "hb": hb}
