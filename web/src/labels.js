// The label layer of the web UI: codes shown by their names (GET /public/labels, loaded once), Beijing time in
// Chinese format. Screens never print a raw code, state or ISO timestamp.
import { reactive } from 'vue'
import { api, REGION_NAMES } from './api.js'

export const labels = reactive({ tables: {}, ready: false })
let loading = null

export function loadLabels() {
  if (!loading) {
    loading = api('/public/labels', { auth: false })
      .then((r) => {
        labels.tables = r.tables
        Object.assign(REGION_NAMES, r.tables.regions || {}) // the older screens' map, now complete
        labels.ready = true
      })
      .catch(() => {
        loading = null // try again on the next page
      })
  }
  return loading
}

// name of a code in a table ("regions", "economic_types", "sex", "record_states" ...); unknown codes as they are
export function label(table, code) {
  if (code === null || code === undefined || code === '') return '—'
  const t = labels.tables[table]
  return (t && t[String(code)]) || String(code)
}

export function regionName(code) {
  if (!code) return '—'
  const t = labels.tables.regions || {}
  const own = t[code]
  if (!own) return code
  if (code.length === 6 && !code.endsWith('00') && own.endsWith('区')) {
    const city = t[code.slice(0, 4) + '00']
    if (city && !own.startsWith(city)) return city + own
  }
  return own
}

// qualifications[0].cert_no → 资质证书（第1项）·资质证书编号
export function fieldLabel(path) {
  if (!path) return ''
  const titles = labels.tables.fields || {}
  const parts = []
  const bare = []
  for (const tok of String(path).match(/[A-Za-z_][A-Za-z0-9_]*|\d+/g) || []) {
    if (/^\d+$/.test(tok)) {
      if (parts.length) parts[parts.length - 1] += `（第${Number(tok) + 1}项）`
      continue
    }
    bare.push(tok)
    parts.push(titles[bare.join('.')] || tok)
  }
  return parts.join('·')
}

const pad = (n) => String(n).padStart(2, '0')

// ISO instant (UTC or with offset) → "2026年12月3日 22:44" in Beijing time; a bare date → "2026年12月3日"
export function fmtTime(iso, { seconds = false } = {}) {
  if (!iso) return '—'
  const s = String(iso)
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return fmtDate(s)
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  const bj = new Date(d.getTime() + 8 * 3600 * 1000)
  const base = `${bj.getUTCFullYear()}年${bj.getUTCMonth() + 1}月${bj.getUTCDate()}日 ${pad(bj.getUTCHours())}:${pad(bj.getUTCMinutes())}`
  return seconds ? `${base}:${pad(bj.getUTCSeconds())}` : base
}

export function fmtDate(value) {
  if (!value) return '—'
  const m = String(value).match(/^(\d{4})-(\d{2})-(\d{2})/)
  if (!m) return String(value)
  return `${m[1]}年${Number(m[2])}月${Number(m[3])}日`
}

// which code table a field's codes come from
const FIELD_TABLES = {
  economic_type: 'economic_types', sex: 'sex', id_type: 'id_card_types', legal_rep_id_type: 'id_card_types',
  category: 'project_categories', nature: 'project_natures', use: 'project_uses', approval_level: 'approval_levels',
  qualification_type: 'qualification_types', grade: 'grades', reg_type: 'registration_types',
  specialty: 'registration_specialties', contract_type: 'contract_types', state: 'record_states',
}
// the same field name means another table inside a part: by the path without its indexes
const PATH_TABLES = {
  'qualifications.items.code': 'qualification_codes', 'safety_certs.category': 'safety_cert_types',
  'registrations.specialties': 'registration_specialties', 'registrations.reg_type': 'registration_types',
}
const bare = (path) => String(path || '').replace(/\[\d+\]/g, '').replace(/\.\d+(?=\.|$)/g, '')
const REGION_FIELDS = new Set(['region_code', 'registered_region', 'location_region', 'responsible_region',
  'authority_region', 'entered_org', 'county', 'city', 'region'])

// a stored value as a person reads it: names for codes, Chinese dates and Beijing times, 是/否
export function displayValue(field, value) {
  if (value === null || value === undefined || value === '') return '—'
  const key = String(field || '').split('.').pop().replace(/\[\d+\]$/, '')
  if (typeof value === 'boolean') return value ? '是' : '否'
  if (REGION_FIELDS.has(key) && /^\d{6}$/.test(String(value))) return regionName(String(value))
  const table = PATH_TABLES[bare(field)] || FIELD_TABLES[key]
  if (table) return label(table, value)
  const s = String(value)
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) return fmtTime(s)
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return fmtDate(s)
  return s
}

// any stored value (also an object or a list of them, as in a diff) as text a person reads: 资质证书编号：D233…；…
export function describe(path, value) {
  if (value === null || value === undefined || value === '') return '（空）'
  if (Array.isArray(value)) return value.length ? value.map((v) => describe(path, v)).join('；') : '（无）'
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => `${fieldLabel(`${path}.${k}`).split('·').pop()}：${describe(`${path}.${k}`, v)}`)
      .join('，')
  }
  return displayValue(path, value)
}
