"""The dashboard summary as an Excel workbook: a sheet per table, amounts as numbers in 万元.

Headers are fixed Simplified Chinese, like every spreadsheet of the programme (DESIGN section 5): a
downloaded report reads the same whoever made it and whatever their interface language.
"""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from aidtracker import money

AMOUNT_FORMAT = "#,##0.00####"

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


def _sheet(workbook, title, header, columns, rows, total_label="合计", keys=("code", "name")):
    sheet = workbook.create_sheet(title)
    sheet.append([*header, *(label for _, label in columns)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([*(row[key] for key in keys[: len(header)]), *_values(row, columns)])
    if total_label:
        totals = {key: sum(row[key] for row in rows) for key, _ in columns}
        sheet.append([total_label, *([""] * (len(header) - 1)), *_values(totals, columns)])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell, (key, _) in zip(row_cells[len(header) :], columns, strict=True):
            if key in AMOUNTS:
                cell.number_format = AMOUNT_FORMAT
    for column_cells in sheet.columns:
        sheet.column_dimensions[column_cells[0].column_letter].width = 16
    sheet.freeze_panes = "A2"
    return sheet


def _values(row, columns):
    return [money.yuan_to_wan(row[key]) if key in AMOUNTS else row[key] for key, _ in columns]


def _quarter_name(block):
    return f"{block['year']}年第{block['quarter']}季度"


def _reporting_sheet(workbook, block):
    """Report coverage per province for the reporting quarter (named on the 筛选条件 sheet)."""
    _sheet(workbook, "季度报告", ["省市代码", "援助省市"], REPORTING_COLUMNS, block["provinces"])


def summary_workbook(result, page=None) -> bytes:
    """Sheets 筛选条件, 按省市, 按类别, 建设成果, with a 合计 row on each table; for a province or a
    category page (`page`), also the tables only that page shows."""
    workbook = Workbook()
    filters = workbook.active
    filters.title = "筛选条件"
    labels = {
        "province": "援助省市",
        "category": "项目类别",
        "recipient": "受援单位",
        "status": "项目状态",
        "start_year": "开始年份",
    }
    filters.append(["条件", "值"])
    for key, value in result["filters"].as_json().items():
        filters.append([labels[key], "" if value is None else str(value)])
    if result["filters"].as_of:
        filters.append(["截至日期", result["filters"].as_of.isoformat()])
    if "reporting" in result:
        filters.append(["报告季度", _quarter_name(result["reporting"])])
    for cell in filters[1]:
        cell.font = Font(bold=True)
    _sheet(
        workbook,
        "按省市",
        ["省市代码", "援助省市"],
        AGREEMENT_COLUMNS + PROJECT_COLUMNS,
        result["by_province"],
    )
    _sheet(workbook, "按类别", ["类别代码", "项目类别"], PROJECT_COLUMNS, result["by_category"])
    _sheet(workbook, "建设成果", ["设施代码", "设施类型"], [("quantity", "数量")], result["facilities"])
    if "reporting" in result:
        _reporting_sheet(workbook, result["reporting"])
    if page == "province":
        _sheet(
            workbook,
            "协议",
            ["协议编号", "协议名称", "受援单位", "协议状态"],
            [("pledged", "援助意向金额（万元）"), *PROJECT_COLUMNS],
            result["agreement_rows"],
            total_label=None,  # drafts and terminated agreements are listed but not counted
            keys=("code", "title", "recipient", "status"),
        )
        # Each unit's row includes the units below it, so the rows do not add up: no total row.
        _sheet(
            workbook,
            "按受援单位",
            ["单位代码", "受援单位（含下级）"],
            PROJECT_COLUMNS,
            result["by_recipient"],
            None,
        )
        _sheet(
            workbook,
            "按季度拨付",
            ["季度"],
            [("amount", "拨付金额（万元）")],
            result["by_quarter"],
            keys=("label",),
        )
    if page == "category":
        _sheet(workbook, "按二级类别", ["类别代码", "二级类别"], PROJECT_COLUMNS, result["by_subcategory"])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
