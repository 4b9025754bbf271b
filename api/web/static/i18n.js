// The words of every page of the workbench, in English and in Simplified Chinese, in one
// place per language. Data (names, titles, addresses, ids) is never translated.
// The language is the one remembered in localStorage under `alliance.lang` (`zh-CN` or
// `en`), else the browser's; `setLang` switches and remembers it. Elements carry their
// key in `data-i18n` (text), `data-i18n-title`, `data-i18n-placeholder` or
// `data-i18n-aria` (aria-label); `translate()` fills them.

export const LANGS = ['zh-CN', 'en'];
export const STORAGE_KEY = 'alliance.lang';

const en = {
  'app.name': 'Alliance Graph',
  'app.workbench': 'workbench',
  'lang.label': 'Language',
  'nav.workbench': 'Graph',
  'nav.leads': 'Leads',
  'nav.queries': 'Saved queries',
  'nav.graphiql': 'GraphiQL',
  'nav.signout': 'Sign out',
  'who.brand': 'brand {id}',
  'who.agency': 'agency {id}',
  'title.workbench': 'Workbench · Alliance Graph',
  'title.leads': 'Leads · Alliance Graph',
  'title.lead': 'Lead · Alliance Graph',
  'title.queries': 'Saved queries · Alliance Graph',
  'title.signin': 'Sign in · Alliance Graph',
  'role.investigator': 'investigator',
  'role.admin': 'admin',
  'role.brand_member': 'brand member',
  'role.police_liaison': 'police liaison',
  'role.analyst': 'analyst',
  'role.platform': 'platform',

  // sign-in page
  'signin.token': 'Your token',
  'signin.go': 'Sign in',
  'signin.hint': 'A token comes from “alliance token issue --role investigator” (or another role). The address “alliance demo” prints signs you in without one. The session ends when the token would, or when you sign out.',
  'signin.graphiql': 'GraphiQL uses the same session.',
  'signin.as': 'Signed in as {sub} ({role}) until {until}.',
  'signin.open': 'Open the workbench',
  'signin.paste': 'Paste a token to sign in.',
  'signin.refused': 'Not signed in: {why}',
  'signin.code': 'This sign-in link is unknown, was used already or has expired (links are valid once, for a few minutes); sign in with a token instead, or run “alliance demo” again for a new link.',

  // the workbench: search and panels
  'search.aria': 'Search',
  'search.placeholder': 'Search names, titles, addresses (中文 / Latin)',
  'search.text': 'Search text',
  'search.kind': 'Kind',
  'search.every': 'every kind',
  'search.go': 'Search',
  'search.busy': 'Searching…',
  'search.found': '{n} matches for “{text}”',
  'search.found.one': '1 match for “{text}”',
  'search.none': 'Nothing found for “{text}” that you may see.',
  'search.open': 'Open',
  'search.add': '+ graph',
  'search.add.title': 'Add its neighbourhood to the graph',
  'start.title': 'Start here',
  'start.loading': 'Loading…',
  'start.nothing': 'Nothing to start from for your role: search above.',
  'start.networks': 'Riskiest seller networks',
  'start.networks.none': 'No stored seller networks yet (alliance analyze networks).',
  'start.network.row': '{size} sellers · {shops} shops · {sites} sites',
  'start.network.tried': 'tried {tried} new shops in 7 days, {blocked} uploads blocked',
  'start.network.title': 'Add the network and its sellers to the graph',
  'start.leads': 'Latest leads',
  'start.leads.none': 'No leads you may see.',
  'start.lead.title': 'Add the lead and what it concerns to the graph',
  'filters.title': 'Show in the graph',
  'filters.kinds': 'Kinds',
  'filters.types': 'Relationships',
  'legend.title': 'Legend',
  'legend.hub': 'hub: not expanded unless asked',
  'legend.seed': 'seed: what you asked for',
  'legend.pinned': 'pinned: layouts leave it',
  'legend.link': 'sellers linked (label says why)',
  'legend.ident': 'seller to a shared identifier',
  'legend.trace': 'evidence path of a traced site',
  'legend.path': 'shortest path',
  'graph.aria': 'Graph',
  'details.aria': 'Details',
  'details.title': 'Details',
  'details.hint': 'Open a search result or click a node.',
  'details.loading': 'Loading…',
  'details.missing': '{id} is not there, or your role may not see it.',
  'details.add': 'Add to graph',
  'details.expand': 'Expand in graph',
  'details.show': 'Show in graph',
  'details.hub.seed': 'A hub: {n} relationships, expanded because you asked for it (up to the size limit).',
  'details.hub': 'A hub: {n} relationships. It is drawn apart and not expanded unless you ask.',
  'details.props': 'Properties',
  'details.props.none': 'none you may see',
  'details.provenance': 'Provenance',
  'details.provenance.none': 'not recorded',
  'details.risk': 'Risk score',
  'details.from': 'from',
  'details.rel': 'relationship',
  'details.to': 'to',
  'details.linked': 'Linked: {word}',
  'details.why': 'Why they are linked',
  'details.shared': 'shared',
  'details.value': 'value',
  'details.weight': 'weight',
  'details.source': 'source',
  'details.observed': 'observed on',
  'factor.name': 'factor',
  'factor.value': 'value',
  'factor.weight': 'weight',
  'factor.adds': 'adds',
  'hub.note': 'This is a hub: {n} relationships (the API\'s hub rule). It is not expanded unless you ask, so one brand or one warehouse does not swallow the view.',
  'hub.expand': 'Expand anyway (up to {n} nodes)',
  'hub.caption': 'hub',

  // toolbar and status line
  'tb.hops': 'hops',
  'tb.upto': 'up to',
  'tb.nodes': 'nodes',
  'tb.expand': 'Expand',
  'tb.expand.title': 'Expand the selected nodes (or double-click a node)',
  'tb.hide': 'Hide',
  'tb.hide.title': 'Hide the selected nodes (H)',
  'tb.unhide': 'Unhide',
  'tb.unhide.title': 'Show what was hidden',
  'tb.pin': 'Pin',
  'tb.pin.title': 'Pin or unpin the selected nodes (P)',
  'tb.undo': 'Undo',
  'tb.undo.title': 'Undo the last change to the graph (Ctrl+Z)',
  'tb.layout.aria': 'Layout',
  'layout.auto': 'auto layout',
  'layout.cose': 'force',
  'layout.radial': 'radial tree',
  'layout.concentric': 'rings',
  'layout.breadthfirst': 'tree',
  'layout.grid': 'grid',
  'layout.circle': 'circle',
  'tb.layout': 'Layout',
  'tb.fit': 'Fit',
  'tb.path': 'Shortest path',
  'tb.path.title': 'Shortest path between the last two selected nodes',
  'tb.unmark': 'Unmark',
  'tb.unmark.title': 'Remove the highlighting',
  'tb.clear': 'Clear',
  'tb.clear.title': 'Empty the graph (Undo brings it back)',
  'tb.export': 'Export',
  'tb.png': 'PNG',
  'tb.graphml': 'GraphML',
  'tb.csvnodes': 'CSV nodes',
  'tb.csvedges': 'CSV edges',
  'tb.network.exports': 'Network for other tools',
  'hint.search': 'Search on the left, open a result, then “Add to graph”.',
  'hint.expand': 'Double-click a node to expand it. Shift-click a second node, then “Shortest path”.',
  'st.nodes': '{n} nodes',
  'st.edges': '{n} edges',
  'st.hidden': '{n} hidden',
  'st.filtered': '{n} filtered out',
  'st.selected': '{n} selected',
  'st.loading': 'Loading the network…',
  'st.new': '{n} new nodes',
  'st.new.one': '1 new node',
  'st.truncated': ' — cut at the size limit: raise “up to” or expand nodes one by one',
  'st.select.expand': 'Select nodes to expand (or double-click one).',
  'st.select.hide': 'Select nodes to hide.',
  'st.select.pin': 'Select nodes to pin.',
  'st.hidden.n': '{n} hidden',
  'st.shown': 'Hidden nodes shown again.',
  'st.pinned': '{n} pinned',
  'st.unpinned': '{n} unpinned',
  'st.laidout': 'Laid out.',
  'st.path': 'shortest path, {n} steps: {steps}',
  'st.path.one': 'shortest path, 1 step: {steps}',
  'st.path.two': 'Select two nodes (click, then Shift-click) for a shortest path.',
  'st.path.none': 'No path between them in the graph as drawn.',
  'st.cleared': 'Cleared (Undo brings it back).',
  'st.undo.none': 'Nothing to undo.',
  'st.undone': 'Undone.',
  'st.empty': 'The graph is empty: nothing to export.',
  'st.fetching': 'Fetching the properties of {n} nodes for the export…',
  'st.exported': 'Exported the current view ({kind}).',
  'st.sellernet': 'seller network: {n} sellers, {links} links',
  'st.traced': '{n} evidence paths to {site} highlighted',

  // seller network and trace
  'net.title': 'Seller network',
  'net.strength': 'Link strength',
  'net.strong': 'STRONG links',
  'net.weak': 'WEAK links too',
  'net.go': 'Seller network',
  'net.busy': 'Walking the links…',
  'net.sellers': '{n} sellers',
  'net.sellers.one': '1 seller',
  'net.cut': ' (cut at the size limit)',
  'net.risk': 'Risk score',
  'net.holds': 'What the network holds',
  'net.hubs': 'Hubs skipped (never a link)',
  'net.hub.row': '{via}: {value} — {n} sellers',
  'net.only': 'Seller networks and traces are for investigators and admins; you are signed in as {role}.',
  'stat.sellers': 'sellers',
  'stat.shops': 'shops',
  'stat.listings': 'listings',
  'stat.brandsHit': 'brands hit',
  'stat.upheldComplaints': 'upheld complaints',
  'stat.counterfeitVerdicts': 'counterfeit verdicts',
  'stat.sites': 'sites',
  'stat.openLeads': 'open leads',
  'stat.cases': 'cases',
  'trace.title': 'Trace to source',
  'trace.go': 'Trace to source',
  'trace.of': 'from {kind} {name}',
  'trace.pick': 'open a listing, shop or seller',
  'trace.busy': 'Tracing…',
  'trace.none': 'No offline site found behind {kind} {name}.',
  'trace.intro': 'Sites behind {kind} {name}, best first. Choose one to see its evidence on the graph.',
  'trace.paths': '{n} paths',
  'trace.paths.one': '1 path',
  'trace.raided': 'raided',
  'trace.evidence': 'Evidence: {site}',
  'trace.hops': '{n} hops',
  'trace.leads': 'Traces of your leads are in their dossiers.',

  // hand-over: a lead from the graph
  'hand.title': 'New lead from the graph',
  'hand.hint': 'Select sellers, shops, sites or persons on the graph (click, Shift-click or drag a box with Shift), then create a lead for them.',
  'hand.subjects': 'Subjects',
  'hand.subjects.none': 'No seller, shop, site or person selected.',
  'hand.evidence': 'Evidence you may attach',
  'hand.evidence.find': 'Find evidence',
  'hand.evidence.none': 'No test purchase or complaint you may attach around the subjects.',
  'hand.evidence.busy': 'Looking for test purchases and complaints…',
  'hand.brand': 'On behalf of',
  'hand.brand.own': 'your brand {brand}',
  'hand.lead.title': 'Title',
  'hand.value': 'Estimated value (CNY)',
  'hand.note': 'Note',
  'hand.create': 'Create lead',
  'hand.created': 'Lead {id} created (draft).',
  'hand.open': 'Open the lead',
  'hand.refused': 'Not created: {why}',
  'hand.only': 'Investigators and brand members create leads.',

  // agencies
  'agency.pick': 'Agency',
  'agency.province': 'Province',
  'agency.city': 'City',
  'agency.choose': 'choose…',
  'agency.all': 'all agencies',
  'agency.none': 'No agency you may push to.',
  'agency.other': 'other',

  // leads: inbox and lead page
  'inbox.title': 'Leads',
  'inbox.status': 'Status',
  'inbox.brand': 'Brand',
  'inbox.any.status': 'every status',
  'inbox.any.brand': 'every brand',
  'inbox.counts': 'Leads per status',
  'inbox.count.all': 'all',
  'inbox.none': 'No lead you may see with these filters.',
  'inbox.more': 'More',
  'inbox.shown': '{n} of {total} leads, newest first',
  'col.lead': 'Lead',
  'col.title': 'Title',
  'col.status': 'Status',
  'col.brands': 'Brands',
  'col.agency': 'Agency',
  'col.created': 'Created',
  'col.value': 'Estimated value',
  'lead.back': '← Leads',
  'lead.missing': 'No lead {id}, or your role may not see it.',
  'lead.summary': 'Summary',
  'lead.created': 'created on',
  'lead.createdBy': 'created by',
  'lead.status': 'status',
  'lead.value': 'estimated value',
  'lead.pushedTo': 'pushed to',
  'lead.pushedOn': 'pushed on',
  'lead.brands': 'on behalf of',
  'lead.note': 'note',
  'lead.subjects': 'Subjects',
  'lead.subjects.none': 'none you may see',
  'lead.evidence': 'Evidence',
  'lead.evidence.none': 'none you may see',
  'lead.timeline': 'Timeline',
  'lead.timeline.none': 'nothing dated yet',
  'lead.conflicts': 'Conflicts',
  'lead.conflicts.none': 'No other open lead or case on the same sellers, networks or sites.',
  'lead.conflict.via': 'shared: {via}',
  'lead.cases': 'Cases',
  'lead.moves': 'What you may do',
  'lead.moves.none': 'Nothing: the lifecycle offers your role no move from here.',
  'lead.dossier': 'Dossier',
  'lead.graph': 'Open in the graph',
  'lead.exports': 'Export for other tools',
  'lead.note.label': 'Note (optional)',
  'lead.moved': 'Done: the lead is now {status}.',
  'lead.refused': 'Refused: {why}',
  'case.moved': 'Done: case {id} is now {status}.',
  'case.opened': 'Case {id} opened; the lead is filed.',
  'case.raid.done': 'Raid recorded on case {id}: {arrests} arrests, {dens} dens destroyed, {seized} seized.',
  'move.to.verified': 'Verify',
  'move.to.pushed': 'Push to an agency',
  'move.to.registered': 'Register',
  'move.to.declined': 'Decline',
  'move.to.transferred': 'Transfer',
  'move.to.filed': 'Open a case',
  'move.to.withdrawn': 'Withdraw',
  'move.case.investigating': 'Start investigating',
  'move.case.raided': 'Record a raid',
  'move.case.prosecuted': 'Prosecute',
  'move.case.judged': 'Judged',
  'move.case.closed': 'Close',
  'move.case.withdrawn': 'Withdraw the case',
  'move.go': 'Confirm',
  'move.cancel': 'Cancel',
  'case.id': 'Case number',
  'case.title': 'Case title',
  'case.charge': 'Charge',
  'case.value': 'Case value (CNY)',
  'case.agency': 'Handling agency',
  'case.agency.own': 'your agency',
  'case.opened.on': 'opened on',
  'case.arrests': 'arrests',
  'case.dens': 'dens destroyed',
  'case.seized': 'seized value',
  'raid.site': 'Site',
  'raid.site.other': 'another site id…',
  'raid.date': 'Raided on',
  'raid.seized': 'Seized value (CNY)',
  'raid.arrests': 'Arrests',
  'raid.dens': 'Dens destroyed',
  'ev.status': '{what}: {from} → {to}',
  'ev.created': '{what} created ({to})',
  'ev.by': 'by {who}',
  'ev.cause.case_opened': 'case {id} opened',
  'ev.cause.case_moved': 'following case {id}',
  'ev.cause.pushed': 'pushed to {id}',
  'ev.cause.raid': 'by a raid',
  'ev.raid': 'Raid on {site}',
  'ev.lead': 'lead',
  'ev.case': 'case {id}',
  'ev.case.opened': 'case {id} opened',

  // statuses
  'status.draft': 'draft',
  'status.verified': 'verified',
  'status.pushed': 'pushed',
  'status.registered': 'registered',
  'status.filed': 'filed',
  'status.declined': 'declined',
  'status.transferred': 'transferred',
  'status.investigating': 'investigating',
  'status.raided': 'raided',
  'status.prosecuted': 'prosecuted',
  'status.judged': 'judged',
  'status.closed': 'closed',
  'status.withdrawn': 'withdrawn',
  'value.counterfeit': 'counterfeit',
  'value.genuine': 'genuine',
  'value.inconclusive': 'inconclusive',
  'value.pending': 'pending',
  'value.upheld': 'upheld',
  'value.rejected': 'rejected',
  'value.trademark': 'trademark',
  'value.copyright': 'copyright',
  'value.patent': 'patent',
  'value.factory': 'factory',
  'value.warehouse': 'warehouse',
  'value.den': 'den',
  'value.store': 'store',
  'value.packing': 'packing',
  'value.suspected': 'suspected',
  'value.confirmed': 'confirmed',
  'value.raided': 'raided',
  'value.active': 'active',
  'value.suspended': 'suspended',
  'value.closed': 'closed',
  'value.live': 'live',
  'value.blocked': 'blocked',
  'value.removed': 'removed',
  'status.open': 'open',

  // saved queries
  'q.title': 'Saved queries',
  'q.catalogue': 'Queries you may run',
  'q.none': 'No saved query for your role.',
  'q.pick': 'Choose a query on the left.',
  'q.params': 'Parameters',
  'q.params.none': 'This query takes no parameters.',
  'q.required': 'required',
  'q.run': 'Run',
  'q.running': 'Running…',
  'q.rows': '{n} rows in {ms} ms',
  'q.rows.one': '1 row in {ms} ms',
  'q.truncated': 'cut at the row limit ({n})',
  'q.norows': 'No rows.',
  'q.csv': 'Download CSV',
  'q.json': 'Download JSON',
  'q.exports': 'For other tools',
  'q.chart': 'Chart',
  'q.chart.y': 'value',
  'q.chart.x': 'by',
  'q.chart.bar': 'bars',
  'q.chart.line': 'line',
  'q.cypher': 'Cypher',
  'q.description': 'What it answers',
  'q.list.hint': 'one value a line',
  'q.bool.any': '(not set)',
  'q.bool.yes': 'yes',
  'q.bool.no': 'no',
  'q.type.string': 'text',
  'q.type.int': 'whole number',
  'q.type.float': 'number',
  'q.type.bool': 'yes / no',
  'q.type.date': 'date',
  'q.type.list': 'list of text',
  'q.missing': 'Give {name}: it is required.',
  'q.sort': 'Sort by this column',
  'q.cypher.none': 'The Cypher of this query is not shown to your role.',

  // exports of the contract
  'exp.ftm': 'FollowTheMoney',
  'exp.graphml': 'GraphML',
  'exp.gexf': 'GEXF',
  'exp.gephi': 'Gephi CSV',

  // values
  'val.yes': 'yes',
  'val.no': 'no',

  // errors: a headline per code
  'err.page': 'something went wrong in the page: {message}',
  'err.network': 'the server does not answer',
  'err.signedout': 'you are signed out; sign in again',
  'err.code.FORBIDDEN': 'Your role may not do this',
  'err.code.NOT_FOUND': 'Not found, or not yours to see',
  'err.code.ILLEGAL_TRANSITION': 'The lifecycle does not allow this move',
  'err.code.OUT_OF_JURISDICTION': 'Outside the jurisdiction',
  'err.code.BAD_REQUEST': 'The request was refused',
  'err.code.CONFLICT': 'It changed meanwhile',
  'err.code.QUERY_TOO_SLOW': 'The query took too long',
  'err.code.QUERY_TOO_COSTLY': 'The query would cost too much',
  'err.code.QUERY_UNAVAILABLE': 'This saved query cannot run now',
  'err.code.DATABASE_UNAVAILABLE': 'The database does not answer',
  'err.code.UNAUTHENTICATED': 'You are signed out',
  'err.code.ERROR': 'Something went wrong',
};

const zh = {
  'app.name': '打假联盟图谱',
  'app.workbench': '工作台',
  'lang.label': '语言',
  'nav.workbench': '图谱',
  'nav.leads': '线索',
  'nav.queries': '常用查询',
  'nav.graphiql': 'GraphiQL',
  'nav.signout': '退出登录',
  'who.brand': '品牌 {id}',
  'who.agency': '机关 {id}',
  'title.workbench': '工作台 · 打假联盟图谱',
  'title.leads': '线索 · 打假联盟图谱',
  'title.lead': '线索详情 · 打假联盟图谱',
  'title.queries': '常用查询 · 打假联盟图谱',
  'title.signin': '登录 · 打假联盟图谱',
  'role.investigator': '调查员',
  'role.admin': '管理员',
  'role.brand_member': '品牌成员',
  'role.police_liaison': '公安联络员',
  'role.analyst': '分析员',
  'role.platform': '平台',

  'signin.token': '您的令牌',
  'signin.go': '登录',
  'signin.hint': '令牌由“alliance token issue --role investigator”（或其他角色）生成。“alliance demo”打印的地址无需令牌即可登录。会话在令牌到期或您退出时结束。',
  'signin.graphiql': 'GraphiQL 使用同一会话。',
  'signin.as': '已登录：{sub}（{role}），有效至 {until}。',
  'signin.open': '打开工作台',
  'signin.paste': '请粘贴令牌以登录。',
  'signin.refused': '未登录：{why}',
  'signin.code': '此登录链接无效、已使用或已过期（链接仅可使用一次，有效期几分钟）；请改用令牌登录，或重新运行“alliance demo”获取新链接。',

  'search.aria': '搜索',
  'search.placeholder': '搜索名称、标题、地址（中文 / 拉丁字母）',
  'search.text': '搜索内容',
  'search.kind': '类型',
  'search.every': '全部类型',
  'search.go': '搜索',
  'search.busy': '搜索中…',
  'search.found': '“{text}”共 {n} 条结果',
  'search.none': '没有找到您可查看的“{text}”。',
  'search.open': '打开',
  'search.add': '+ 图谱',
  'search.add.title': '将其关联关系加入图谱',
  'start.title': '从这里开始',
  'start.loading': '加载中…',
  'start.nothing': '您的角色没有可开始的内容：请在上方搜索。',
  'start.networks': '风险最高的卖家网络',
  'start.networks.none': '尚无已存储的卖家网络（alliance analyze networks）。',
  'start.network.row': '{size} 个卖家 · {shops} 家店铺 · {sites} 个窝点',
  'start.network.tried': '7 天内尝试开新店 {tried} 家，拦截上传 {blocked} 次',
  'start.network.title': '将该网络及其卖家加入图谱',
  'start.leads': '最新线索',
  'start.leads.none': '没有您可查看的线索。',
  'start.lead.title': '将该线索及其涉及对象加入图谱',
  'filters.title': '图谱中显示',
  'filters.kinds': '类型',
  'filters.types': '关系',
  'legend.title': '图例',
  'legend.hub': '枢纽：除非要求，不展开',
  'legend.seed': '起点：您查询的对象',
  'legend.pinned': '已固定：布局不移动',
  'legend.link': '关联卖家（标签说明原因）',
  'legend.ident': '卖家与共用标识',
  'legend.trace': '溯源窝点的证据路径',
  'legend.path': '最短路径',
  'graph.aria': '图谱',
  'details.aria': '详情',
  'details.title': '详情',
  'details.hint': '打开一条搜索结果或点击一个节点。',
  'details.loading': '加载中…',
  'details.missing': '{id} 不存在，或您的角色无权查看。',
  'details.add': '加入图谱',
  'details.expand': '在图谱中展开',
  'details.show': '在图谱中定位',
  'details.hub.seed': '枢纽节点：{n} 条关系，因您的要求已展开（以数量上限为准）。',
  'details.hub': '枢纽节点：{n} 条关系。单独绘制，除非您要求，不展开。',
  'details.props': '属性',
  'details.props.none': '没有您可查看的属性',
  'details.provenance': '数据来源',
  'details.provenance.none': '未记录',
  'details.risk': '风险评分',
  'details.from': '起点',
  'details.rel': '关系',
  'details.to': '终点',
  'details.linked': '关联：{word}',
  'details.why': '关联原因',
  'details.shared': '共用',
  'details.value': '值',
  'details.weight': '权重',
  'details.source': '来源',
  'details.observed': '观察日期',
  'factor.name': '因素',
  'factor.value': '值',
  'factor.weight': '权重',
  'factor.adds': '贡献',
  'hub.note': '这是一个枢纽节点：{n} 条关系（接口的枢纽规则）。除非您要求，不会展开，以免一个品牌或一个仓库占满视图。',
  'hub.expand': '仍然展开（最多 {n} 个节点）',
  'hub.caption': '枢纽',

  'tb.hops': '跳数',
  'tb.upto': '最多',
  'tb.nodes': '个节点',
  'tb.expand': '展开',
  'tb.expand.title': '展开所选节点（或双击节点）',
  'tb.hide': '隐藏',
  'tb.hide.title': '隐藏所选节点（H）',
  'tb.unhide': '取消隐藏',
  'tb.unhide.title': '显示已隐藏的节点',
  'tb.pin': '固定',
  'tb.pin.title': '固定或取消固定所选节点（P）',
  'tb.undo': '撤销',
  'tb.undo.title': '撤销对图谱的上一次更改（Ctrl+Z）',
  'tb.layout.aria': '布局',
  'layout.auto': '自动布局',
  'layout.cose': '力导向',
  'layout.radial': '径向树',
  'layout.concentric': '同心圆',
  'layout.breadthfirst': '树形',
  'layout.grid': '网格',
  'layout.circle': '圆形',
  'tb.layout': '布局',
  'tb.fit': '适应窗口',
  'tb.path': '最短路径',
  'tb.path.title': '最后选中的两个节点之间的最短路径',
  'tb.unmark': '取消标记',
  'tb.unmark.title': '移除高亮',
  'tb.clear': '清空',
  'tb.clear.title': '清空图谱（可撤销）',
  'tb.export': '导出',
  'tb.png': 'PNG 图片',
  'tb.graphml': 'GraphML',
  'tb.csvnodes': 'CSV 节点',
  'tb.csvedges': 'CSV 关系',
  'tb.network.exports': '导出网络供其他工具使用',
  'hint.search': '在左侧搜索，打开一条结果，然后点击“加入图谱”。',
  'hint.expand': '双击节点将其展开。按住 Shift 点击第二个节点，然后点击“最短路径”。',
  'st.nodes': '{n} 个节点',
  'st.edges': '{n} 条关系',
  'st.hidden': '{n} 个已隐藏',
  'st.filtered': '{n} 个已筛除',
  'st.selected': '{n} 个已选',
  'st.loading': '正在加载网络…',
  'st.new': '新增 {n} 个节点',
  'st.truncated': ' —— 已达数量上限：请调高“最多”或逐个展开节点',
  'st.select.expand': '请选择要展开的节点（或双击一个节点）。',
  'st.select.hide': '请选择要隐藏的节点。',
  'st.select.pin': '请选择要固定的节点。',
  'st.hidden.n': '已隐藏 {n} 个',
  'st.shown': '已重新显示隐藏的节点。',
  'st.pinned': '已固定 {n} 个',
  'st.unpinned': '已取消固定 {n} 个',
  'st.laidout': '已重新布局。',
  'st.path': '最短路径，{n} 步：{steps}',
  'st.path.two': '请选择两个节点（点击，再按住 Shift 点击）以求最短路径。',
  'st.path.none': '当前图谱中两者之间没有路径。',
  'st.cleared': '已清空（可撤销）。',
  'st.undo.none': '没有可撤销的操作。',
  'st.undone': '已撤销。',
  'st.empty': '图谱为空：没有可导出的内容。',
  'st.fetching': '正在获取 {n} 个节点的属性以便导出…',
  'st.exported': '已导出当前视图（{kind}）。',
  'st.sellernet': '卖家网络：{n} 个卖家，{links} 条关联',
  'st.traced': '已高亮指向 {site} 的 {n} 条证据路径',

  'net.title': '卖家网络',
  'net.strength': '关联强度',
  'net.strong': '强关联',
  'net.weak': '含弱关联',
  'net.go': '卖家网络',
  'net.busy': '正在遍历关联…',
  'net.sellers': '{n} 个卖家',
  'net.cut': '（已达数量上限）',
  'net.risk': '风险评分',
  'net.holds': '网络包含',
  'net.hubs': '跳过的枢纽（不作为关联）',
  'net.hub.row': '{via}：{value} —— {n} 个卖家',
  'net.only': '卖家网络与溯源仅供调查员和管理员使用；您当前的角色是{role}。',
  'stat.sellers': '卖家',
  'stat.shops': '店铺',
  'stat.listings': '商品',
  'stat.brandsHit': '涉及品牌',
  'stat.upheldComplaints': '成立的投诉',
  'stat.counterfeitVerdicts': '鉴定为假',
  'stat.sites': '窝点',
  'stat.openLeads': '未结线索',
  'stat.cases': '案件',
  'trace.title': '溯源',
  'trace.go': '溯源',
  'trace.of': '从{kind} {name}',
  'trace.pick': '请打开一个商品、店铺或卖家',
  'trace.busy': '溯源中…',
  'trace.none': '{kind} {name} 背后没有找到线下窝点。',
  'trace.intro': '{kind} {name} 背后的窝点，按可能性排序。选择一个，在图谱中查看证据。',
  'trace.paths': '{n} 条路径',
  'trace.raided': '已查处',
  'trace.evidence': '证据：{site}',
  'trace.hops': '{n} 跳',
  'trace.leads': '您的线索的溯源结果在其卷宗中。',

  'hand.title': '从图谱新建线索',
  'hand.hint': '在图谱中选择卖家、店铺、窝点或人员（点击、按住 Shift 点击或按住 Shift 拖框），然后为其新建线索。',
  'hand.subjects': '涉及对象',
  'hand.subjects.none': '尚未选择卖家、店铺、窝点或人员。',
  'hand.evidence': '可附加的证据',
  'hand.evidence.find': '查找证据',
  'hand.evidence.none': '涉及对象周围没有您可附加的试买或投诉。',
  'hand.evidence.busy': '正在查找试买和投诉…',
  'hand.brand': '代表品牌',
  'hand.brand.own': '您的品牌 {brand}',
  'hand.lead.title': '标题',
  'hand.value': '估计金额（元）',
  'hand.note': '备注',
  'hand.create': '新建线索',
  'hand.created': '已新建线索 {id}（草稿）。',
  'hand.open': '打开线索',
  'hand.refused': '未能新建：{why}',
  'hand.only': '调查员和品牌成员可以新建线索。',

  'agency.pick': '机关',
  'agency.province': '省份',
  'agency.city': '城市',
  'agency.choose': '请选择…',
  'agency.all': '全部机关',
  'agency.none': '没有您可推送的机关。',
  'agency.other': '其他',

  'inbox.title': '线索',
  'inbox.status': '状态',
  'inbox.brand': '品牌',
  'inbox.any.status': '全部状态',
  'inbox.any.brand': '全部品牌',
  'inbox.counts': '各状态线索数',
  'inbox.count.all': '全部',
  'inbox.none': '按这些条件没有您可查看的线索。',
  'inbox.more': '更多',
  'inbox.shown': '共 {total} 条线索，显示 {n} 条，最新的在前',
  'col.lead': '线索',
  'col.title': '标题',
  'col.status': '状态',
  'col.brands': '品牌',
  'col.agency': '机关',
  'col.created': '创建日期',
  'col.value': '估计金额',
  'lead.back': '← 线索',
  'lead.missing': '没有线索 {id}，或您的角色无权查看。',
  'lead.summary': '概要',
  'lead.created': '创建日期',
  'lead.createdBy': '创建人',
  'lead.status': '状态',
  'lead.value': '估计金额',
  'lead.pushedTo': '推送至',
  'lead.pushedOn': '推送日期',
  'lead.brands': '代表品牌',
  'lead.note': '备注',
  'lead.subjects': '涉及对象',
  'lead.subjects.none': '没有您可查看的对象',
  'lead.evidence': '证据',
  'lead.evidence.none': '没有您可查看的证据',
  'lead.timeline': '时间线',
  'lead.timeline.none': '尚无带日期的事件',
  'lead.conflicts': '冲突',
  'lead.conflicts.none': '同一卖家、网络或窝点上没有其他未结的线索或案件。',
  'lead.conflict.via': '共同涉及：{via}',
  'lead.cases': '案件',
  'lead.moves': '您可以进行的操作',
  'lead.moves.none': '无：生命周期不允许您的角色从此状态进行任何操作。',
  'lead.dossier': '卷宗',
  'lead.graph': '在图谱中打开',
  'lead.exports': '导出供其他工具使用',
  'lead.note.label': '备注（可选）',
  'lead.moved': '完成：线索现为{status}。',
  'lead.refused': '被拒绝：{why}',
  'case.moved': '完成：案件 {id} 现为{status}。',
  'case.opened': '已立案 {id}；线索已转为立案。',
  'case.raid.done': '已在案件 {id} 上登记查处：抓获 {arrests} 人，捣毁窝点 {dens} 个，查扣 {seized}。',
  'move.to.verified': '核实',
  'move.to.pushed': '推送至机关',
  'move.to.registered': '登记受理',
  'move.to.declined': '不予受理',
  'move.to.transferred': '移交',
  'move.to.filed': '立案',
  'move.to.withdrawn': '撤回',
  'move.case.investigating': '开始侦查',
  'move.case.raided': '登记查处',
  'move.case.prosecuted': '移送起诉',
  'move.case.judged': '已判决',
  'move.case.closed': '结案',
  'move.case.withdrawn': '撤销案件',
  'move.go': '确认',
  'move.cancel': '取消',
  'case.id': '案件编号',
  'case.title': '案件名称',
  'case.charge': '罪名',
  'case.value': '案值（元）',
  'case.agency': '承办机关',
  'case.agency.own': '您的机关',
  'case.opened.on': '立案日期',
  'case.arrests': '抓获人数',
  'case.dens': '捣毁窝点',
  'case.seized': '查扣金额',
  'raid.site': '窝点',
  'raid.site.other': '其他窝点编号…',
  'raid.date': '查处日期',
  'raid.seized': '查扣金额（元）',
  'raid.arrests': '抓获人数',
  'raid.dens': '捣毁窝点数',
  'ev.status': '{what}：{from} → {to}',
  'ev.created': '{what}已创建（{to}）',
  'ev.by': '操作人 {who}',
  'ev.cause.case_opened': '案件 {id} 已立案',
  'ev.cause.case_moved': '随案件 {id} 变更',
  'ev.cause.pushed': '推送至 {id}',
  'ev.cause.raid': '因查处',
  'ev.raid': '查处 {site}',
  'ev.lead': '线索',
  'ev.case': '案件 {id}',
  'ev.case.opened': '案件 {id} 立案',

  'status.draft': '草稿',
  'status.verified': '已核实',
  'status.pushed': '已推送',
  'status.registered': '已登记',
  'status.filed': '已立案',
  'status.declined': '不予受理',
  'status.transferred': '已移交',
  'status.investigating': '侦查中',
  'status.raided': '已查处',
  'status.prosecuted': '已起诉',
  'status.judged': '已判决',
  'status.closed': '已结案',
  'status.withdrawn': '已撤回',
  'value.counterfeit': '假冒',
  'value.genuine': '正品',
  'value.inconclusive': '无法确定',
  'value.pending': '待处理',
  'value.upheld': '成立',
  'value.rejected': '驳回',
  'value.trademark': '商标',
  'value.copyright': '著作权',
  'value.patent': '专利',
  'value.factory': '工厂',
  'value.warehouse': '仓库',
  'value.den': '窝点',
  'value.store': '门店',
  'value.packing': '包装点',
  'value.suspected': '疑似',
  'value.confirmed': '已确认',
  'value.raided': '已查处',
  'value.active': '正常',
  'value.suspended': '已暂停',
  'value.closed': '已关闭',
  'value.live': '在售',
  'value.blocked': '已拦截',
  'value.removed': '已下架',
  'status.open': '已立案',

  'q.title': '常用查询',
  'q.catalogue': '您可运行的查询',
  'q.none': '您的角色没有可用的常用查询。',
  'q.pick': '请在左侧选择一个查询。',
  'q.params': '参数',
  'q.params.none': '此查询没有参数。',
  'q.required': '必填',
  'q.run': '运行',
  'q.running': '运行中…',
  'q.rows': '{n} 行，用时 {ms} 毫秒',
  'q.truncated': '已达行数上限（{n}）',
  'q.norows': '没有结果。',
  'q.csv': '下载 CSV',
  'q.json': '下载 JSON',
  'q.exports': '供其他工具使用',
  'q.chart': '图表',
  'q.chart.y': '数值',
  'q.chart.x': '分组',
  'q.chart.bar': '柱状图',
  'q.chart.line': '折线图',
  'q.cypher': 'Cypher 语句',
  'q.description': '说明',
  'q.list.hint': '每行一个值',
  'q.bool.any': '（不限）',
  'q.bool.yes': '是',
  'q.bool.no': '否',
  'q.type.string': '文本',
  'q.type.int': '整数',
  'q.type.float': '数字',
  'q.type.bool': '是 / 否',
  'q.type.date': '日期',
  'q.type.list': '文本列表',
  'q.missing': '请填写 {name}：此项必填。',
  'q.sort': '按此列排序',
  'q.cypher.none': '您的角色不可查看此查询的 Cypher 语句。',

  'exp.ftm': 'FollowTheMoney',
  'exp.graphml': 'GraphML',
  'exp.gexf': 'GEXF',
  'exp.gephi': 'Gephi CSV',

  'val.yes': '是',
  'val.no': '否',

  'err.page': '页面出错：{message}',
  'err.network': '服务器没有响应',
  'err.signedout': '您已退出登录，请重新登录',
  'err.code.FORBIDDEN': '您的角色无权进行此操作',
  'err.code.NOT_FOUND': '未找到，或您无权查看',
  'err.code.ILLEGAL_TRANSITION': '生命周期不允许此操作',
  'err.code.OUT_OF_JURISDICTION': '超出管辖范围',
  'err.code.BAD_REQUEST': '请求被拒绝',
  'err.code.CONFLICT': '数据已被他人更改',
  'err.code.QUERY_TOO_SLOW': '查询耗时过长',
  'err.code.QUERY_TOO_COSTLY': '查询开销过大',
  'err.code.QUERY_UNAVAILABLE': '此常用查询暂不可用',
  'err.code.DATABASE_UNAVAILABLE': '数据库没有响应',
  'err.code.UNAUTHENTICATED': '您已退出登录',
  'err.code.ERROR': '出现错误',
};

/** Kinds of node, relationship words and property names: labels too. */
const KINDS = {
  Seller: ['seller', '卖家'], Shop: ['shop', '店铺'], Listing: ['listing', '商品'], Brand: ['brand', '品牌'],
  Site: ['site', '窝点'], Person: ['person', '人员'], Address: ['address', '地址'], Phone: ['phone', '电话'],
  Email: ['email', '邮箱'], PaymentAccount: ['payout account', '收款账户'], Identity: ['identity', '身份'],
  Device: ['device', '设备'], Division: ['division', '行政区划'], Agency: ['agency', '机关'],
  Lead: ['lead', '线索'], Case: ['case', '案件'], Shipment: ['shipment', '快递'],
  TestPurchase: ['test purchase', '试买'], Complaint: ['complaint', '投诉'], Network: ['network', '网络'],
  StatusEvent: ['status event', '状态事件'], AuditEvent: ['audit event', '审计事件'],
  IngestRun: ['load run', '导入批次'], Screening: ['screening', '筛查'], Alert: ['alert', '预警'],
};
const RELS = {
  HAS_PHONE: ['phone', '电话'], PAID_TO: ['payout account', '收款账户'], VERIFIED_AS: ['identity', '身份'],
  HAS_EMAIL: ['email', '邮箱'], USED_DEVICE: ['device', '设备'], REGISTERED_AT: ['registered at', '注册地'],
  SHIPS_FROM: ['ships from', '发货地'], RETURNS_TO: ['returns to', '退货地'], OPERATES: ['operates', '经营'],
  OFFERS: ['offers', '在售'], CLAIMS_BRAND: ['claims', '标称品牌'], OWNS: ['owns', '拥有'], HOLDS: ['holds', '持有'],
  TRANSFERRED_TO: ['transferred to', '转账至'], SENT_BY: ['sent by', '寄件方'], ORIGINATES_AT: ['sent from', '寄出地'],
  BOUGHT: ['bought', '购买'], DELIVERED_BY: ['delivered by', '快递'], AUTHENTICATED_BY: ['authenticated by', '鉴定方'],
  FILED: ['filed', '提交'], AGAINST: ['against', '针对'], LOCATED_AT: ['located at', '位于'],
  CONTROLS: ['controls', '控制'], RUNS: ['runs', '经营'], IN_DIVISION: ['in', '属于'], PART_OF: ['part of', '隶属'],
  ON_BEHALF_OF: ['for', '代表'], CONCERNS: ['concerns', '涉及'], EVIDENCED_BY: ['evidence', '证据'],
  PUSHED_TO: ['pushed to', '推送至'], BECAME: ['became', '转为'], HANDLED_BY: ['handled by', '承办'],
  CONCERNS_BRAND: ['brand', '品牌'], RAIDED: ['raided', '查处'], NAMES_SUSPECT: ['suspect', '嫌疑人'],
  IN_NETWORK: ['in network', '所属网络'], HAS_EVENT: ['event', '事件'], LINKED: ['linked', '关联'],
  PROBABLY_SAME: ['probably the same', '疑似同一'], ABOUT: ['about', '关于'], RAISED_LEAD: ['raised lead', '生成线索'],
};
const VIA = {
  identity: ['same identity', '同一身份'], payment_account: ['same payout account', '同一收款账户'],
  phone: ['same phone', '同一电话'], email: ['same email', '同一邮箱'], device_fp: ['same device', '同一设备'],
  device_ip: ['same IP address', '同一 IP 地址'], address: ['same address', '同一地址'],
};
const FACTORS = {
  upheld_complaints: ['upheld complaints', '成立的投诉'], counterfeit_verdicts: ['counterfeit verdicts', '鉴定为假'],
  blocked_listings: ['blocked listings', '被拦截的商品'], network_size: ['network size', '网络规模'],
  site_proximity: ['near a known site', '临近已知窝点'], enforcement: ['enforcement', '执法情况'],
};
const PROPS = {
  seller_id: '卖家编号', shop_id: '店铺编号', listing_id: '商品编号', brand_id: '品牌编号', site_id: '窝点编号',
  person_id: '人员编号', lead_id: '线索编号', case_id: '案件编号', agency_id: '机关编号', network_id: '网络编号',
  purchase_id: '试买编号', complaint_id: '投诉编号', shipment_id: '快递编号', event_id: '事件编号',
  platform: '平台', nickname: '昵称', kind: '类别', legal_name: '法定名称', registered_on: '注册日期',
  status: '状态', name: '名称', name_zh: '中文名称', url: '网址', opened_on: '开店日期', closed_on: '关闭日期',
  title: '标题', price: '价格', currency: '币种', country: '国家', owner: '权利人', alliance_member: '联盟成员',
  joined_on: '加入日期', trademark_nos: '商标号', label: '名称', address: '地址', first_seen: '首次发现',
  raw: '原文', normalized: '规范地址', province: '省', city: '市', district: '区县', adcode: '行政区划代码',
  address_key: '地址键', level: '级别', unit: '部门', carrier: '快递公司', waybill_no: '运单号',
  sender_name: '寄件人', shipped_on: '寄出日期', destination_adcode: '目的地代码', ordered_on: '下单日期',
  report_no: '报告编号', verdict: '鉴定结论', verdict_on: '鉴定日期', filed_on: '投诉日期', outcome: '处理结果',
  created_on: '创建日期', estimated_value_cny: '估计金额（元）', pushed_on: '推送日期', note: '备注',
  created_by: '创建人', charge: '罪名', case_value_cny: '案值（元）', arrests: '抓获人数',
  dens_destroyed: '捣毁窝点', seized_value_cny: '查扣金额（元）', size: '规模', risk_score: '风险评分',
  strength: '关联强度', computed_at: '计算时间', e164: '号码', email: '邮箱', account: '账户', provider: '机构',
  id_hash: '身份哈希', device: '设备', region: '地区', source: '来源', run_id: '批次编号',
  observed_on: '观察日期', first_seen_at: '首次出现', last_seen_at: '最后出现', shops: '店铺数',
  sites: '窝点数', listings: '商品数', upheld_complaints: '成立的投诉', counterfeit_verdicts: '鉴定为假',
  blocked_at_upload: '上传时拦截', raw_forms: '原始形式', at: '时间', who: '操作人', role: '角色',
  from_status: '原状态', to_status: '新状态', request_id: '请求编号', score: '评分', reasons: '原因',
};

export const STRINGS = { en, 'zh-CN': zh };
for (const [name, [english, chinese]] of Object.entries(KINDS)) {
  en[`kind.${name}`] = english;
  zh[`kind.${name}`] = chinese;
}
for (const [name, [english, chinese]] of Object.entries(RELS)) {
  en[`rel.${name}`] = english;
  zh[`rel.${name}`] = chinese;
}
for (const [name, [english, chinese]] of Object.entries(VIA)) {
  en[`via.${name}`] = english;
  zh[`via.${name}`] = chinese;
}
for (const [name, [english, chinese]] of Object.entries(FACTORS)) {
  en[`factor.${name}`] = english;
  zh[`factor.${name}`] = chinese;
}
for (const [name, chinese] of Object.entries(PROPS)) {
  en[`prop.${name}`] = name.replace(/_/g, ' ');
  zh[`prop.${name}`] = chinese;
}

/** The language remembered, else the browser's first Chinese or English one, else English. */
export function chooseLang() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage refused (a sandboxed page): the browser's language decides
  }
  if (LANGS.includes(stored)) return stored;
  for (const wanted of navigator.languages ?? [navigator.language]) {
    const code = String(wanted).toLowerCase();
    if (code.startsWith('zh')) return 'zh-CN';
    if (code.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = chooseLang();
const listeners = [];

export function lang() {
  return current;
}

/** Switch to `next`, remember it, translate the page and tell the listeners. */
export function setLang(next) {
  if (!LANGS.includes(next)) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; still switched
  }
  translate();
  for (const listener of listeners) listener(next);
}

export function onLangChange(listener) {
  listeners.push(listener);
}

function template(key, vars) {
  const words = STRINGS[current];
  const one = vars.n === 1 ? words[`${key}.one`] : undefined;
  return one ?? words[key] ?? en[key] ?? key;
}

/** The words of `key` in the current language, `{name}` replaced from `vars`; `.one` when n is 1. */
export function t(key, vars = {}) {
  return template(key, vars).replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** `t` as pieces: the words as strings, each value from `vars` as `wrap(value)` (data
 *  the page marks as not to be translated). */
export function tParts(key, vars, wrap) {
  return template(key, vars).split(/(\{\w+\})/).filter(Boolean).map((piece) => {
    const name = piece.match(/^\{(\w+)\}$/)?.[1];
    return name && name in vars ? wrap(vars[name]) : piece;
  });
}

/** `t(key)` when the key exists, else `fallback`. */
export function tOr(key, fallback) {
  return key in STRINGS[current] || key in en ? t(key) : fallback;
}

export function kindWord(label) {
  return tOr(`kind.${label}`, label);
}

export function relWord(type) {
  return tOr(`rel.${type}`, String(type).toLowerCase().replace(/_/g, ' '));
}

export function viaWord(kind) {
  return tOr(`via.${kind}`, kind);
}

export function propWord(name) {
  return tOr(`prop.${name}`, String(name).replace(/_/g, ' '));
}

export function statusWord(status) {
  return status ? tOr(`status.${status}`, status) : '';
}

/** A word of the contract's vocabularies (verdicts, outcomes, complaint kinds, site kinds,
 *  statuses of sellers, shops, listings and sites); null for any other value. */
export function valueWord(value) {
  return value ? tOr(`value.${value}`, null) : null;
}

export function roleWord(role) {
  return tOr(`role.${role}`, role);
}

/** Fill the elements of `root` that carry translation keys. */
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
  const chooser = document.getElementById('lang');
  if (chooser) chooser.value = current;
}

/** A timestamp (ISO 8601, with its offset) as a date and minute in the browser's time zone,
 *  2026-03-01 17:05; anything else (a plain date, a text) as it is. */
export function localTime(value) {
  const at = typeof value === 'string' && value.includes('T') ? new Date(value) : null;
  if (!at || Number.isNaN(at.getTime())) return value;
  const two = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

/** Money as people write it: 160,000 CNY (160,000 元). */
export function money(value) {
  if (value === null || value === undefined || value === '') return '';
  const text = Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 });
  return current === 'zh-CN' ? `${text} 元` : `${text} CNY`;
}

// --- the API's errors in words -------------------------------------------------------------

const ZH_MESSAGES = [
  [/^unknown ids \(or ids you may not use\) - (.*)$/, (m) => `编号不存在或您无权使用：${m[1]
    .replace(/sellers:/g, '卖家：').replace(/shops:/g, '店铺：').replace(/sites:/g, '窝点：')
    .replace(/persons:/g, '人员：').replace(/test purchases:/g, '试买：').replace(/complaints:/g, '投诉：')
    .replace(/brands:/g, '品牌：')}`],
  [/^role '(\w+)' may not move a lead to '(\w+)'; allowed roles: \[(.*)\]$/,
    (m) => `${roleWord(m[1])}不能将线索改为“${statusWord(m[2])}”；可操作的角色：${rolesIn(m[3])}`],
  [/^role '(\w+)' may not (create leads|change cases|record raids).*$/,
    (m) => `${roleWord(m[1])}无权${{ 'create leads': '新建线索', 'change cases': '变更案件', 'record raids': '登记查处' }[m[2]]}`],
  [/^a (lead|case) in status '(\w+)' cannot become '(\w+)'; allowed next: (.*)$/,
    (m) => `处于“${statusWord(m[2])}”的${m[1] === 'lead' ? '线索' : '案件'}不能变为“${statusWord(m[3])}”；允许的下一步：${m[4].split(', ').map(statusWord).join('、')}`],
  [/^(lead|agency) '(.+)' is not with an agency in your jurisdiction$/,
    (m) => `${m[1] === 'lead' ? '线索' : '机关'} ${m[2]} 不在您管辖范围内的机关`],
  [/^a raid on site '(.+)' cannot be recorded on case '(.+)': .*$/,
    (m) => `不能在案件 ${m[2]} 上登记对窝点 ${m[1]} 的查处：该窝点不在承办机关的管辖范围内`],
  [/^no (lead|case|site|agency) '(.+)'$/, (m) => `没有${{ lead: '线索', case: '案件', site: '窝点', agency: '机关' }[m[1]]} ${m[2]}`],
  [/^a lead concerns at least one seller, shop, site or person$/, () => '线索至少要涉及一个卖家、店铺、窝点或人员'],
  [/^a lead is on behalf of at least one brand: give brandIds$/, () => '线索至少要代表一个品牌：请选择品牌'],
  [/^a brand member files leads for its own brand only.*$/, () => '品牌成员只能为本品牌提交线索'],
  [/^leadId '(.+)' cannot be used.*$/, (m) => `线索编号 ${m[1]} 不可用；请换一个，或留空自动生成`],
  [/^(\w+) must not be negative$/, (m) => `${m[1]} 不能为负数`],
  [/^raidedOn (\S+) is in the future$/, (m) => `查处日期 ${m[1]} 晚于今天`],
  [/^give agencyId.*$/, () => '请选择承办机关'],
  [/^already exists.*$/, () => '编号已被使用'],
];

function rolesIn(list) {
  return list.split(',').map((r) => roleWord(r.trim().replace(/'/g, ''))).join('、');
}

/** An error as words in the current language: a headline for its code, then what the API said. */
export function errorText(err) {
  const code = err?.code ?? 'ERROR';
  const said = String(err?.message ?? err ?? '');
  if (code === 'PAGE') return t('err.page', { message: said });
  if (code === 'NETWORK') return t('err.network');
  if (code === 'UNAUTHENTICATED') return t('err.signedout');
  const headline = tOr(`err.code.${code}`, '');
  if (current === 'en') return headline ? `${headline}: ${said}` : said;
  for (const [pattern, words] of ZH_MESSAGES) {
    const found = said.match(pattern);
    if (found) return headline ? `${headline}：${words(found)}` : words(found);
  }
  return headline ? `${headline}（${said}）` : said;
}
