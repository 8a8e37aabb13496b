// The only way the UI talks to the platform: the public HTTP API, with the token from POST /auth/login.
import { reactive } from 'vue'

const BASE = window.CMSP_API_BASE || ''

export const session = reactive({
  token: sessionStorage.getItem('cmsp.token') || '',
  refresh: sessionStorage.getItem('cmsp.refresh') || '',
  me: JSON.parse(sessionStorage.getItem('cmsp.me') || 'null'),
  policy: JSON.parse(sessionStorage.getItem('cmsp.policy') || 'null'),
  ended: '', // why the last session ended (shown on the login page)
})

// 三员 and the city-level system administrator: the platform's own administration, no business role.
export const ADMIN_ROLES = ['province_admin', 'city_admin', 'security_admin', 'audit_admin']

export function isAdmin() {
  return !!session.me && ADMIN_ROLES.includes(session.me.role)
}

export function hasRole(...roles) {
  return !!session.me && roles.includes(session.me.role)
}

export const OFFICIAL_ROLES = ['county_official', 'city_official', 'province_official', 'province_admin']

export function isOfficial() {
  return !!session.me && OFFICIAL_ROLES.includes(session.me.role)
}

export function isEnterprise() {
  return !!session.me && session.me.role === 'enterprise'
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `请求失败（HTTP ${status}）`)
    this.status = status
    this.code = body && body.code
    this.details = (body && body.details) || []
  }
}

// requests on their way: a logout lets them finish in the session they started in
const inflight = new Set()
// what anyone may call without signing in
const OPEN = ['/public/', '/auth/', '/health']

export async function api(path, { method = 'GET', body, auth = true } = {}) {
  const headers = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`
  if (auth && !session.token && !OPEN.some((prefix) => path.startsWith(prefix))) {
    // signed out (a page's next request after 退出): nothing to ask the server, which would only answer 401
    throw new ApiError(401, { code: 'UNAUTHENTICATED', message: '已退出登录，请重新登录' })
  }
  let resp
  const call = fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  inflight.add(call)
  try {
    resp = await call
  } catch (e) {
    throw new ApiError(0, { message: '无法连接平台服务，请检查网络后重试' })
  } finally {
    inflight.delete(call)
  }
  const text = await resp.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch (e) {
    data = null
  }
  if (resp.status === 401 && auth) {
    clearSession((data && data.message) || '登录已失效，请重新登录')
  }
  if (!resp.ok) throw new ApiError(resp.status, data)
  return data
}

function store(tokens) {
  session.token = tokens.id_token
  session.refresh = tokens.refresh_token || ''
  session.policy = tokens.session || null
  sessionStorage.setItem('cmsp.token', session.token)
  sessionStorage.setItem('cmsp.refresh', session.refresh)
  sessionStorage.setItem('cmsp.policy', JSON.stringify(session.policy))
  scheduleRefresh(tokens.expires_in)
}

export async function loadMe() {
  const me = await api('/auth/me')
  session.me = me
  sessionStorage.setItem('cmsp.me', JSON.stringify(me))
  return me
}

export async function login(username, password, totp) {
  const body = { username, password }
  if (totp) body.totp_code = totp
  const tokens = await api('/auth/login', { method: 'POST', body, auth: false })
  session.ended = ''
  store(tokens)
  return loadMe()
}

// The ID token lives an hour; it is renewed in the same session two minutes before it expires.
let refreshTimer = null
function scheduleRefresh(expiresIn) {
  clearTimeout(refreshTimer)
  if (!expiresIn || !session.refresh) return
  refreshTimer = setTimeout(refreshNow, Math.max(30, expiresIn - 120) * 1000)
}

export async function refreshNow() {
  if (!session.refresh) return
  try {
    store(await api('/auth/refresh', { method: 'POST', body: { refresh_token: session.refresh }, auth: false }))
  } catch (e) {
    clearSession(e.message)
  }
}

function clearSession(reason) {
  clearTimeout(refreshTimer)
  if (session.token && reason) session.ended = reason
  session.token = ''
  session.refresh = ''
  session.me = null
  session.policy = null
  for (const k of ['cmsp.token', 'cmsp.refresh', 'cmsp.me', 'cmsp.policy']) sessionStorage.removeItem(k)
}

// Explicit logout ends the platform session and revokes the refresh token on the server, then forgets locally.
// A save or a page load still on its way finishes first (up to 3 s): ending the session under it would cut it off.
export async function logout(reason) {
  const token = session.token
  const refresh = session.refresh
  await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 3000))])
  clearSession(reason || '') // nothing sends the old token from here on
  if (!token) return
  try {
    await fetch(BASE + '/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ refresh_token: refresh || null }),
    })
  } catch (e) {
    // the session may already be over: forgetting it locally is what matters now
  }
}

// Browser → S3 presigned POST, with upload progress (XMLHttpRequest: fetch has no upload progress).
export function postToS3(presigned, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    Object.entries(presigned.fields).forEach(([k, v]) => form.append(k, v))
    form.append('file', file)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', presigned.url)
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total))
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, { message: `上传失败（HTTP ${xhr.status}）` })))
    xhr.onerror = () => reject(new ApiError(0, { message: '上传失败：无法连接存储服务' }))
    xhr.send(form)
  })
}

export const STATE_LABELS = {
  IMPORTED: '导入待补充',
  SUPPLEMENTED: '已补充未提交',
  SUBMITTED: '待确认',
  SUPPLEMENT_REQUESTED: '补正中',
  CONFIRMED: '已确认',
  FALSE: '虚假',
  IN_DOUBT: '存疑',
}
export const TYPE_LABELS = { ENT: '企业', PER: '注册人员', PRJ: '工程项目', enterprise: '企业', person: '注册人员', project: '工程项目' }

export const FIELD_LABELS = {
  state: '状态', version: '版本', created_at: '创建时间', updated_at: '更新时间', submitted_at: '提交时间',
  region_code: '所属地区', owner_uscc: '归属企业', uscc: '统一社会信用代码', name: '名称', business_reg_no: '工商注册号',
  registered_region: '注册地区', address: '地址', legal_rep: '法定代表人', legal_rep_id_type: '法定代表人证件类型',
  legal_rep_id_no: '法定代表人证件号码', legal_rep_title: '法定代表人职务', economic_type: '企业登记注册类型',
  registered_capital: '注册资本（万元）', established_on: '成立日期', contact_person: '联系人', contact_phone: '联系电话',
  email: '电子邮箱', person_key: '人员标识', employer_uscc: '注册单位', employer_name: '注册单位名称', sex: '性别',
  id_type: '证件类型', id_no: '证件号码', birth_date: '出生日期', education: '学历', mobile: '手机号码',
  prj_num: '项目编号', category: '项目分类', location_region: '建设地点', build_corp_name: '建设单位',
  build_corp_code: '建设单位代码', approval_no: '立项文号', approval_level: '立项级别', total_investment: '总投资（万元）',
  total_area: '总面积（平方米）', scale: '建设规模', nature: '建设性质', use: '工程用途', start_date: '开工日期', end_date: '竣工日期',
}

export const ACCOUNT_ROLE_LABELS = {
  enterprise: '企业用户', county_official: '县级主管部门', city_official: '市级主管部门', province_official: '省级主管部门',
  province_admin: '系统管理员', city_admin: '市级系统管理员', security_admin: '安全管理员', audit_admin: '审计管理员',
  ministry_sync: '住建部同步客户端', tender_supervision: '招投标监管机构',
}


export const REGION_NAMES = {
  '330000': '浙江省', '330100': '杭州市', '330200': '宁波市', '330300': '温州市', '330400': '嘉兴市', '330500': '湖州市',
  '330600': '绍兴市', '330700': '金华市', '330800': '衢州市', '330900': '舟山市', '331000': '台州市', '331100': '丽水市',
  '330782': '义乌市', '330702': '婺城区', '330106': '西湖区', '330102': '上城区', '000000': '未知地区',
}

export const STEP_LABELS = {
  CheckPreconditions: '条件检查',
  PreconditionsMet: '条件满足',
  OfficialReview: '主管部门审查',
  EscalatedReview: '上级审查',
  AwaitCompletion: '等待补正',
  IssuePermit: '发证',
  Issued: '已发证',
  Rejected: '不予许可',
  Abandoned: '逾期未补正',
  EscalationOverdue: '逾期',
}

// a record type's form definition (/forms/{type}: fields, list sections, code pickers), fetched once per page load
const formCache = {}
export function formDefinition(recordType) {
  if (!formCache[recordType]) {
    formCache[recordType] = api(`/forms/${recordType}`).catch((e) => {
      delete formCache[recordType]
      throw e
    })
  }
  return formCache[recordType]
}
