"""The dashboard summary as an Excel workbook: a sheet per table, amounts as numbers in 万元.

Headers are fixed Simplified Chinese, like every spreadsheet of the programme (DESIGN section 5): a
downloaded report reads the same whoever made it and whatever their interface language.
"""

from aidtracker import money
from spreadsheets.writing import SheetLayout, write_xlsx

PROJECT_COLUMNS = [
    ("projects", "项目数"),
    ("budget", "援助金额（万元）"),
    ("disbursed", "已拨付金额（万元）"),
    ("completed", "已完成项目数"),
    ("beneficiaries", "受益人次"),
]
AGREEMENT_COLUMNS = [("agreements", "协议数"), ("pledged", "援助意向金额（万元）")]
AMOUNTS = {"pledged", "budget", "disbursed", "amount"}
REPORTING_COLUMNS = [
    ("due", "应报项目数"),
    ("approved", "已审核"),
    ("submitted", "已提交"),
    ("returned", "已退回"),
    ("draft", "草稿"),
    ("missing", "未报"),
]


def _sheet(sheets, title, header, columns, rows, total_label="合计", keys=("code", "name")):
    """A table as a sheet of the one writer: codes and names as text (formula-like ones stay text),
    amounts as numbers in 万元, and a 合计 row of values (never a formula)."""
    out = [[*(row[key] for key in keys[: len(header)]), *_values(row, columns)] for row in rows]
    bold = ()
    if total_label:
        totals = {key: sum(row[key] for row in rows) for key, _ in columns}
        out.append([total_label, *([None] * (len(header) - 1)), *_values(totals, columns)])
        bold = (len(out) - 1,)
    width = len(header) + len(columns)
    amounts = tuple(len(header) + i for i, (key, _) in enumerate(columns) if key in AMOUNTS)
    layout = SheetLayout(widths={i: 16 for i in range(width)}, amount_columns=amounts, bold_rows=bold)
    sheets.append((title, [*header, *(label for _, label in columns)], out, layout))


def _values(row, columns):
    return [money.yuan_to_wan(row[key]) if key in AMOUNTS else row[key] for key, _ in columns]


def _quarter_name(block):
    return f"{block['year']}年第{block['quarter']}季度"


def _reporting_sheet(sheets, block):
    """Report coverage per province for the reporting quarter (named on the 筛选条件 sheet)."""
    _sheet(sheets, "季度报告", ["省市代码", "援助省市"], REPORTING_COLUMNS, block["provinces"])


REPORTING_STATES = {
    "missing": "未填报",
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
    "approved": "已审核",
}


def _report_projects_sheet(sheets, projects):
    """The province page's list of projects due a report, those needing attention first."""
    rows = [
        {
            "code": p.code,
            "name": p.name,
            "state": REPORTING_STATES.get(p.reporting_status, p.reporting_status),
            "percent": p.percent_complete,
        }
        for p in projects
    ]
    _sheet(
        sheets,
        "应报项目",
        ["项目编号", "项目名称"],
        [("state", "报告状态"), ("percent", "完成进度（%）")],
        rows,
        None,
    )


HEADLINE = [
    ("agreements", "协议数", ""),
    ("pledged", "援助意向金额", "万元"),
    ("projects", "项目数", ""),
    ("budget", "援助金额", "万元"),
    ("disbursed", "已拨付金额", "万元"),
    ("execution", "执行率", "%"),
    ("completed", "已完成项目数", ""),
    ("completion", "完成率", "%"),
    ("beneficiaries", "受益人次", ""),
]


def _headline_sheet(sheets, totals, filters):
    """The overview's headline figures, one per row. The agreement figures are left off under a project-only
    filter, as on the page (agreements are not narrowed by category, status or start year)."""
    project_only = filters.category or filters.status or filters.start_year
    rows = []
    for key, label, unit in HEADLINE:
        if project_only and key in ("agreements", "pledged"):
            continue
        value = totals[key]
        if unit == "万元":
            value = money.yuan_to_wan(value)
        elif unit == "%":
            value = None if value is None else round(float(value) * 100, 1)
        rows.append([label, value, unit])
    layout = SheetLayout(widths={0: 16, 1: 18, 2: 8}, amount_columns=(1,))
    sheets.append(("总体情况", ["指标", "数值", "单位"], rows, layout))


def _year_sheet(sheets, by_year):
    rows = [{**row, "label": row["year"] or "无开始日期"} for row in by_year]
    _sheet(sheets, "按开始年份", ["开始年份"], PROJECT_COLUMNS, rows, keys=("label",))


def summary_workbook(result, page=None) -> bytes:
    """Sheets 筛选条件, 按省市, 按类别, 建设成果, with a 合计 row on each table; for the overview, a province
    or a category page (`page`), also the tables only that page shows."""
    sheets = []
    labels = {
        "province": "援助省市",
        "category": "项目类别",
        "recipient": "受援单位",
        "status": "项目状态",
        "start_year": "开始年份",
    }
    conditions = [
        [labels[key], "" if value is None else str(value)]
        for key, value in result["filters"].as_json().items()
    ]
    if result["filters"].as_of:
        conditions.append(["截至日期", result["filters"].as_of.isoformat()])
    if "reporting" in result:
        conditions.append(["报告季度", _quarter_name(result["reporting"])])
    sheets.append(("筛选条件", ["条件", "值"], conditions, SheetLayout(widths={0: 16, 1: 16})))
    if page == "overview":
        _headline_sheet(sheets, result["totals"], result["filters"])
    _sheet(
        sheets,
        "按省市",
        ["省市代码", "援助省市"],
        AGREEMENT_COLUMNS + PROJECT_COLUMNS,
        result["by_province"],
    )
    _sheet(sheets, "按类别", ["类别代码", "项目类别"], PROJECT_COLUMNS, result["by_category"])
    _sheet(sheets, "建设成果", ["设施代码", "设施类型"], [("quantity", "数量")], result["facilities"])
    if page == "overview":
        _year_sheet(sheets, result["by_year"])
    if "reporting" in result:
        _reporting_sheet(sheets, result["reporting"])
    if page == "province" and result.get("province_reporting", {}).get("listed"):
        _report_projects_sheet(sheets, result["province_reporting"]["projects"])
    if page == "province":
        _sheet(
            sheets,
            "协议",
            ["协议编号", "协议名称", "受援单位", "协议状态"],
            [("pledged", "援助意向金额（万元）"), *PROJECT_COLUMNS],
            result["agreement_rows"],
            total_label=None,  # drafts and terminated agreements are listed but not counted
            keys=("code", "title", "recipient", "status"),
        )
        # Each unit's row includes the units below it, so the rows do not add up: no total row.
        _sheet(
            sheets,
            "按受援单位",
            ["单位代码", "受援单位（含下级）"],
            PROJECT_COLUMNS,
            result["by_recipient"],
            None,
        )
        _sheet(
            sheets,
            "按季度拨付",
            ["季度"],
            [("amount", "拨付金额（万元）")],
            result["by_quarter"],
            keys=("label",),
        )
    if page == "category":
        _sheet(sheets, "按二级类别", ["类别代码", "二级类别"], PROJECT_COLUMNS, result["by_subcategory"])
    return write_xlsx(sheets)
