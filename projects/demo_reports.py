"""The demo's reporting cycle: progress reports in every state over the four quarters ending with the
reporting quarter of the day the demo is loaded, site photos drawn with Pillow, and 2021 Q4 closed.

Reports depend on the day (the reporting quarter moves on), so they come from their own seeded generator
after everything else: the rest of the demo, and its published figures, stay the same whatever the day.
"""

import datetime
import io
import random

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from simple_history.utils import bulk_create_with_history

from agreements.models import RecipientUnit
from projects import photos
from projects.models import ClosedPeriod, ProgressReport, Project, ReportPhoto
from projects.reporting import due_q, quarter_bounds, reporting_quarter

Status = ProgressReport.Status
CLOSED = (2021, 4)
# Who writes a province's or unit's reports in the demo (others' reports have no demo author).
AUTHORS = {"110000": "staff_bj", "420000": "staff_hb"}
RECIPIENT_AUTHOR = ("653100", "recipient_ks")
NARRATIVES = [
    "本季度完成场地改造和设备采购，职工活动室已投入使用。",
    "组织开展技能培训{n}期，参训职工反映良好。",
    "项目按计划推进，资金拨付到位，正在进行中期检查。",
    "走访慰问困难职工家庭，发放慰问金和生活物资。",
    "完成主体工程建设，正在开展内部装修和验收准备。",
    "与受援单位召开推进会，明确下一阶段任务和时间节点。",
]
RETURN_NOTES = ["请补充现场照片和资金使用情况。", "完成进度与上季度不一致，请核实后重新提交。"]
PHOTO_COLOURS = [(196, 40, 40), (40, 110, 170), (60, 140, 70), (210, 150, 30)]


def last_quarters(year: int, quarter: int, count: int = 4) -> list[tuple[int, int]]:
    """The `count` quarters ending with (year, quarter), oldest first."""
    quarters = []
    for _ in range(count):
        quarters.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return quarters[::-1]


def _state(rng, latest: bool) -> str | None:
    """A report's state (None: no report). The reporting quarter has every state; earlier ones are mostly
    approved, with a few reports never written."""
    if latest:
        return rng.choices(
            [None, Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED], [25, 15, 25, 10, 25]
        )[0]
    return rng.choices([None, Status.APPROVED, Status.RETURNED], [8, 90, 2])[0]


def _photo(rng, caption: str) -> tuple:
    """A generated site photo (a coloured scene with a few shapes), cleaned as an upload would be."""
    image = Image.new("RGB", (960, 640), rng.choice(PHOTO_COLOURS))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(0, 800), rng.randrange(0, 500)
        draw.rectangle([x, y, x + rng.randrange(60, 200), y + rng.randrange(40, 140)], fill=(240, 240, 235))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    upload = SimpleUploadedFile("site.jpg", buffer.getvalue(), content_type="image/jpeg")
    return photos.process_photo(upload)


def build_reports(*, today: datetime.date | None = None, seed: int = 2022) -> int:
    """Create the demo's reports and photos and close 2021 Q4; returns the number of reports."""
    rng = random.Random(seed)
    names = ["national", *AUTHORS.values(), RECIPIENT_AUTHOR[1]]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    ks_path = RecipientUnit.objects.get(code=RECIPIENT_AUTHOR[0]).path
    reviewer = users.get("national")
    ClosedPeriod.objects.get_or_create(
        year=CLOSED[0], quarter=CLOSED[1], reopened_at=None, defaults={"closed_by": reviewer}
    )
    quarters = last_quarters(*reporting_quarter(as_of=today))
    reports = []
    progress = {}
    for year, quarter in quarters:
        latest = (year, quarter) == quarters[-1]
        due = (
            Project.objects.filter(due_q(year=year, quarter=quarter))
            .select_related("agreement__province", "recipient")
            .order_by("code")
        )
        for project in due:
            state = _state(rng, latest)
            if state is None:
                continue
            percent = min(100, progress.get(project.pk, rng.randrange(10, 40)) + rng.randrange(5, 25))
            if project.status == Project.Status.COMPLETED:
                percent = 100
            progress[project.pk] = percent
            author = users.get(AUTHORS.get(project.agreement.province.code, ""))
            if author is None and project.recipient.path.startswith(ks_path):
                author = users.get(RECIPIENT_AUTHOR[1])
            decided = state in (Status.APPROVED, Status.RETURNED)
            reports.append(
                ProgressReport(
                    project=project,
                    year=year,
                    quarter=quarter,
                    percent_complete=percent,
                    narrative=rng.choice(NARRATIVES).format(n=rng.randrange(2, 6)),
                    status=state,
                    review_note=rng.choice(RETURN_NOTES) if state == Status.RETURNED else "",
                    author=author,
                    submitted_by=author if state != Status.DRAFT else None,
                    reviewed_by=reviewer if decided else None,
                    reviewed_at=_quarter_end_moment(year, quarter) if decided else None,
                )
            )
    reports = bulk_create_with_history(reports, ProgressReport, batch_size=500)
    _add_photos(rng, quarters[-1])
    return len(reports)


def _quarter_end_moment(year, quarter):
    day = quarter_bounds(year, quarter)[1] + datetime.timedelta(days=10)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def _add_photos(rng, reporting):
    """Photos on a few reports of the reporting quarter in every state but missing, Beijing's first."""
    year, quarter = reporting
    chosen = []
    for state in (Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED):
        chosen += list(
            ProgressReport.objects.filter(year=year, quarter=quarter, status=state)
            .filter(project__agreement__province__code="110000")
            .select_related("project")
            .order_by("project__code")[:2]
        )
    for report in chosen:
        for n in range(1, 3):
            caption = f"{report.project.name} 现场照片{n}"
            image, thumbnail = _photo(rng, caption)
            photo = ReportPhoto(report=report, caption=caption[:200])
            photo.image.save("demo.jpg", image, save=False)
            photo.thumbnail.save("demo.jpg", thumbnail, save=False)
            photo.save()
