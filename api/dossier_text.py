"""The words and number formats of the printed dossier, in 简体中文 and English.

`LABELS` holds every label of the dossier page and of its error page, one dictionary per
language with the same keys (`tests/test_dossier_text.py` checks it); `VALUES` the words
of the project's own vocabularies (statuses, verdicts, kinds of sites, labels of the
graph, ...) in Chinese, shown in place of the stored word; anything else a dossier
shows is data and stays as it is. `language` picks the language of a request from
`?lang=` and then `Accept-Language`; `money`, `date_text` and `thresholds_text` format
figures the same way in both languages (`160,000 CNY`, `2024-05-01`,
`2024-05-02 03:04 UTC`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DEFAULT_LANG: Lang = "en"
"""When neither `?lang=` nor `Accept-Language` names a language the dossier has."""

EN: dict[str, str] = {
    "title": "Dossier",
    "generated": "Generated {at} for {who}.",
    "none": "None.",
    "masked": "masked",
    "section.lead": "Lead",
    "section.value": "Estimated value and prosecution threshold",
    "section.agencies": "Agencies",
    "section.cases": "Cases",
    "section.timeline": "Timeline",
    "section.subjects": "Subjects",
    "section.traces": "Traces to offline sites",
    "section.evidence": "Evidence",
    "section.purchases": "Test purchases",
    "section.complaints": "Complaints",
    "section.shipments": "Shipments",
    "section.conflicts": "Conflicts (other open leads and cases)",
    "section.manifest": "Manifest (SHA-256)",
    "lead.id": "Lead",
    "lead.title": "Title",
    "lead.status": "Status",
    "lead.created": "Created",
    "lead.pushed": "Pushed",
    "lead.brands": "On behalf of",
    "lead.note": "Note",
    "value.estimated": "Estimated value",
    "value.level": "Threshold reached",
    "value.filing": "Filing threshold (relatively large)",
    "value.serious": "Especially serious threshold",
    "value.source": "Source",
    "value.source.law": ("Supreme People's Court and Supreme People's Procuratorate, Interpretation "
                         "on Several Issues of Specific Application of Law in Handling Criminal Cases "
                         "of Infringing Intellectual Property (Fa Shi [2004] No. 19), articles 1 and 2: "
                         "illegal business volume or sales of 50,000 CNY, and of 250,000 CNY."),
    "value.source.settings": ("Thresholds set for this deployment (ALLIANCE_THRESHOLD_FILING_CNY, "
                              "ALLIANCE_THRESHOLD_SERIOUS_CNY)."),
    "level.unknown": "unknown: no estimated value",
    "level.below_filing_threshold": "below the filing threshold",
    "level.above_filing_threshold": "filing threshold reached",
    "level.especially_serious": "especially serious threshold reached",
    "col.agency": "Agency",
    "col.level": "Level",
    "col.adcode": "Division code",
    "col.pushed_on": "Pushed on",
    "col.case": "Case",
    "col.status": "Status",
    "col.title": "Title",
    "col.opened_on": "Opened on",
    "col.raids": "Raids",
    "col.at": "Date",
    "col.event": "Event",
    "col.about": "About",
    "col.details": "Details",
    "col.by": "By",
    "col.kind": "Kind",
    "col.key": "Id",
    "col.name": "Name",
    "col.network": "Network",
    "col.address": "Address",
    "col.purchase": "Test purchase",
    "col.listing": "Listing",
    "col.brand": "Brand",
    "col.ordered_on": "Ordered on",
    "col.verdict": "Verdict",
    "col.verdict_on": "Verdict on",
    "col.report_no": "Report no.",
    "col.shipment": "Shipment",
    "col.complaint": "Complaint",
    "col.outcome": "Outcome",
    "col.filed_on": "Filed on",
    "col.resolved_on": "Resolved on",
    "col.target": "Against",
    "col.carrier": "Carrier",
    "col.waybill": "Waybill no.",
    "col.shipped_on": "Shipped on",
    "col.origin": "Origin",
    "col.shop": "Shop",
    "col.conflict": "Lead or case",
    "col.brands": "Brands",
    "col.via": "Shared",
    "col.item": "Item",
    "col.sha256": "SHA-256",
    "network.size": "{size} sellers, risk {risk}",
    "raid.figures": "{site} on {on}: seized {seized}, {arrests} arrests, {dens} dens destroyed",
    "raid.event": "{site}: seized {seized}, {arrests} arrests, {dens} dens destroyed",
    "raid.site_unseen": "a site",
    "trace.none": "No path to an offline site.",
    "trace.no_subjects": "No seller or shop subjects.",
    "trace.site": "Site {site} ({kind}, {status}), score {score}",
    "trace.path": "{kind}, weight {weight}",
    "event.lead_created": "Lead created",
    "event.lead_pushed": "Lead pushed to an agency",
    "event.status": "Status changed",
    "cause.case_opened": "case {id} opened",
    "cause.case_moved": "following case {id}",
    "cause.pushed": "pushed to {id}",
    "cause.raid": "by a raid",
    "event.case_opened": "Case opened",
    "event.raid": "Raid",
    "event.test_purchase": "Test purchase ordered",
    "event.verdict": "Authentication verdict",
    "event.complaint_filed": "Complaint filed",
    "event.complaint_resolved": "Complaint resolved",
    "event.shipment": "Shipment sent",
    "event.seller_registered": "Seller registered",
    "event.shop_opened": "Shop opened",
    "event.shop_closed": "Shop closed",
    "event.site_first_seen": "Site first seen",
    "manifest.total": "SHA-256 of the manifest",
    "manifest.how": ("Each item's hash is the SHA-256 of its canonical JSON (sorted keys, no spaces, "
                     "UTF-8) in this dossier's .json; the manifest's is the SHA-256 of the lines "
                     "\"kind id sha256\", in order."),
    "error.title": "The dossier cannot be shown",
    "error.UNAUTHENTICATED": "You are not signed in, or your session has ended.",
    "error.FORBIDDEN": "Your role does not read dossiers.",
    "error.NOT_FOUND": "There is no such lead, or it is not yours to see.",
    "error.DATABASE_UNAVAILABLE": "The database cannot be reached just now; try again in a minute.",
    "error.TIMEOUT": "Gathering the dossier took too long; try again in a minute.",
    "error.other": "The dossier could not be made.",
    "error.signin": "Sign in",
    "error.request": "Request id: {id}",
}

ZH: dict[str, str] = {
    "title": "案卷",
    "generated": "生成时间 {at}，读者 {who}。",
    "none": "无。",
    "masked": "已隐去",
    "section.lead": "线索",
    "section.value": "估算金额与立案追诉标准",
    "section.agencies": "接收单位",
    "section.cases": "案件",
    "section.timeline": "时间线",
    "section.subjects": "涉及对象",
    "section.traces": "线下窝点溯源",
    "section.evidence": "证据",
    "section.purchases": "试买",
    "section.complaints": "投诉",
    "section.shipments": "快递",
    "section.conflicts": "冲突（其他在办线索与案件）",
    "section.manifest": "清单（SHA-256）",
    "lead.id": "线索编号",
    "lead.title": "标题",
    "lead.status": "状态",
    "lead.created": "创建日期",
    "lead.pushed": "推送日期",
    "lead.brands": "委托品牌",
    "lead.note": "备注",
    "value.estimated": "估算金额",
    "value.level": "达到标准",
    "value.filing": "立案追诉标准（数额较大）",
    "value.serious": "情节特别严重标准",
    "value.source": "依据",
    "value.source.law": ("《最高人民法院、最高人民检察院关于办理侵犯知识产权刑事案件"
                         "具体应用法律若干问题的解释》（法释〔2004〕19号）第一条、第二条：非法经营数额或销售金额五万元、二十五万元。"),
    "value.source.settings": ("本系统设定的标准（ALLIANCE_THRESHOLD_FILING_CNY、"
                              "ALLIANCE_THRESHOLD_SERIOUS_CNY）。"),
    "level.unknown": "未知：无估算金额",
    "level.below_filing_threshold": "未达立案追诉标准",
    "level.above_filing_threshold": "已达立案追诉标准",
    "level.especially_serious": "已达情节特别严重标准",
    "col.agency": "单位",
    "col.level": "级别",
    "col.adcode": "行政区划代码",
    "col.pushed_on": "推送日期",
    "col.case": "案件",
    "col.status": "状态",
    "col.title": "标题",
    "col.opened_on": "立案日期",
    "col.raids": "查处",
    "col.at": "日期",
    "col.event": "事件",
    "col.about": "对象",
    "col.details": "详情",
    "col.by": "操作人",
    "col.kind": "类别",
    "col.key": "编号",
    "col.name": "名称",
    "col.network": "团伙网络",
    "col.address": "地址",
    "col.purchase": "试买",
    "col.listing": "商品",
    "col.brand": "品牌",
    "col.ordered_on": "下单日期",
    "col.verdict": "鉴定结论",
    "col.verdict_on": "鉴定日期",
    "col.report_no": "鉴定报告编号",
    "col.shipment": "快递",
    "col.complaint": "投诉",
    "col.outcome": "结果",
    "col.filed_on": "投诉日期",
    "col.resolved_on": "处理日期",
    "col.target": "投诉对象",
    "col.carrier": "快递公司",
    "col.waybill": "运单号",
    "col.shipped_on": "发货日期",
    "col.origin": "发货地",
    "col.shop": "店铺",
    "col.conflict": "线索或案件",
    "col.brands": "品牌",
    "col.via": "共同对象",
    "col.item": "条目",
    "col.sha256": "SHA-256",
    "network.size": "{size} 个卖家，风险 {risk}",
    "raid.figures": "{on} 查处{site}：扣押 {seized}，抓获 {arrests} 人，捣毁窝点 {dens} 个",
    "raid.event": "查处{site}：扣押 {seized}，抓获 {arrests} 人，捣毁窝点 {dens} 个",
    "raid.site_unseen": "一处窝点",
    "trace.none": "未发现通往线下窝点的路径。",
    "trace.no_subjects": "无卖家或店铺对象。",
    "trace.site": "窝点 {site}（{kind}，{status}），评分 {score}",
    "trace.path": "{kind}，权重 {weight}",
    "event.lead_created": "创建线索",
    "event.lead_pushed": "线索推送至单位",
    "event.status": "状态变更",
    "cause.case_opened": "案件 {id} 已立案",
    "cause.case_moved": "随案件 {id} 变更",
    "cause.pushed": "推送至 {id}",
    "cause.raid": "因查处",
    "event.case_opened": "立案",
    "event.raid": "查处",
    "event.test_purchase": "试买下单",
    "event.verdict": "鉴定结论",
    "event.complaint_filed": "提交投诉",
    "event.complaint_resolved": "投诉处理完毕",
    "event.shipment": "快递发出",
    "event.seller_registered": "卖家注册",
    "event.shop_opened": "店铺开设",
    "event.shop_closed": "店铺关闭",
    "event.site_first_seen": "首次发现窝点",
    "manifest.total": "清单的 SHA-256",
    "manifest.how": ("每一条目的哈希为本案卷 .json 中该条目规范 JSON（键排序、无空格、UTF-8）的 SHA-256；"
                     "清单哈希为按顺序排列的“类别 编号 SHA-256”各行的 SHA-256。"),
    "error.title": "无法显示案卷",
    "error.UNAUTHENTICATED": "您尚未登录，或会话已结束。",
    "error.FORBIDDEN": "您的角色无权阅读案卷。",
    "error.NOT_FOUND": "没有该线索，或您无权查看。",
    "error.DATABASE_UNAVAILABLE": "暂时无法连接数据库，请稍后再试。",
    "error.TIMEOUT": "生成案卷用时过长，请稍后再试。",
    "error.other": "无法生成案卷。",
    "error.signin": "登录",
    "error.request": "请求编号：{id}",
}

LABELS: dict[Lang, dict[str, str]] = {"en": EN, "zh-CN": ZH}

VALUES: dict[str, str] = {
    # graph labels
    "Seller": "卖家", "Shop": "店铺", "Site": "窝点", "Person": "人员", "Listing": "商品",
    "Network": "团伙网络", "Address": "地址", "Phone": "电话", "Email": "电子邮箱",
    "PaymentAccount": "收款账户", "Device": "设备", "Identity": "身份证件", "Shipment": "快递",
    "TestPurchase": "试买", "Complaint": "投诉", "Brand": "品牌", "Agency": "单位", "Lead": "线索",
    "Case": "案件", "Division": "行政区划",
    # conflict kinds
    "lead": "线索", "case": "案件",
    # lead and case statuses (graph.lifecycle)
    "draft": "草稿", "verified": "已核实", "pushed": "已推送", "registered": "已登记", "filed": "已立案",
    "declined": "不予立案", "transferred": "已移交", "investigating": "侦查中", "raided": "已查处",
    "prosecuted": "已起诉", "judged": "已判决", "closed": "已结案", "withdrawn": "已撤回", "open": "已立案",
    # verdicts, outcomes, complaint kinds
    "counterfeit": "假冒", "genuine": "正品", "inconclusive": "无法确定",
    "pending": "待处理", "upheld": "成立", "rejected": "驳回",
    "trademark": "商标", "copyright": "著作权", "patent": "专利",
    # sites, sellers, shops, agencies
    "factory": "工厂", "warehouse": "仓库", "den": "窝点", "store": "门店", "packing": "包装点",
    "suspected": "疑似", "confirmed": "已确认",
    "person": "个人", "company": "企业", "active": "正常", "suspended": "已暂停",
    "live": "在售", "blocked": "已拦截", "removed": "已下架",
    "ministry": "部级", "province": "省级", "city": "市级", "county": "县级",
    # kinds of trace paths (graph.trace.path_kind)
    "purchase": "试买", "shipment": "快递", "ships_from": "发货地址", "returns_to": "退货地址",
    "money": "资金往来",
    # relationship types on trace paths
    "OPERATES": "经营", "OFFERS": "上架", "BOUGHT": "试买", "DELIVERED_BY": "寄送", "SENT_BY": "发件",
    "ORIGINATES_AT": "发自", "SHIPS_FROM": "发货地", "RETURNS_TO": "退货地", "LOCATED_AT": "位于",
    "CONTROLS": "控制", "RUNS": "经营", "PAID_TO": "收款至", "OWNS": "持有", "TRANSFERRED_TO": "转账至",
    "HAS_PHONE": "电话", "HAS_EMAIL": "邮箱", "USED_DEVICE": "使用设备", "REGISTERED_AT": "注册地址",
    "VERIFIED_AS": "实名认证", "HOLDS": "持有证件", "IN_NETWORK": "属于团伙",
    # roles
    "investigator": "调查员", "admin": "管理员", "brand_member": "品牌成员", "police_liaison": "警方联络员",
    "analyst": "分析员", "platform": "平台",
}
"""The project's own words in Chinese; in English they are shown as stored."""

STATUS_OF: dict[str, dict[str, str]] = {
    "Seller": {"closed": "已注销"},
    "Shop": {"open": "营业中", "closed": "已关闭"},
}
"""Where a word means something else for a label (a shop is open, a case is opened)."""


def label(lang: Lang, key: str, **values: object) -> str:
    text = LABELS[lang][key]
    return text.format(**values) if values else text


def word(lang: Lang, value: str | None, of: str | None = None) -> str:
    """A word of the project's vocabularies in the reader's language (`of`: the label
    whose status it is); other text as it is."""
    if value is None:
        return ""
    if lang != "zh-CN":
        return value
    return STATUS_OF.get(of or "", {}).get(value) or VALUES.get(value, value)


def language(lang: str | None, accept_language: str | None) -> Lang:
    """`?lang=` when it names a language of the dossier, else the first of
    `Accept-Language` (by its q-values) that does, else DEFAULT_LANG."""
    for candidate in ([lang] if lang else []) + accepted(accept_language or ""):
        found = _match(candidate)
        if found is not None:
            return found
    return DEFAULT_LANG


def accepted(header: str) -> list[str]:
    """The languages of an Accept-Language header, best first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, n, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _match(tag: str) -> Lang | None:
    tag = tag.lower()
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def money(value: float | None) -> str:
    """`160,000 CNY`; cents only when there are some (`99.50 CNY`); '' for none."""
    if value is None:
        return ""
    whole = float(value).is_integer()
    return f"{value:,.0f} CNY" if whole else f"{value:,.2f} CNY"


def date_text(value: str | None) -> str:
    """An ISO date as it is (`2024-05-01`); an ISO date-time as `2024-05-02 03:04 UTC`."""
    if not value:
        return ""
    if len(value) <= 10:
        return value
    try:
        moment = datetime.fromisoformat(_seconds(value))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _seconds(value: str) -> str:
    """Neo4j writes nanoseconds (`03:04:05.123456789+00:00`); Python reads microseconds."""
    head, dot, tail = value.partition(".")
    if not dot:
        return value
    digits = len(tail) - len(tail.lstrip("0123456789"))
    return f"{head}.{tail[:min(digits, 6)]}{tail[digits:]}"


def sort_key(value: str) -> tuple[str, str]:
    """When an event happened, to order a timeline: its UTC day, then its UTC time
    (a date alone comes before any time of its day)."""
    if len(value) <= 10:
        return (value, "")
    try:
        moment = datetime.fromisoformat(_seconds(value))
    except ValueError:
        return (value[:10], value[10:])
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (moment.date().isoformat(), moment.time().isoformat())

