import { createRouter, createWebHashHistory } from 'vue-router'
import { session, isOfficial, isEnterprise, isAdmin, hasRole } from './api.js'

const routes = [
  {
    path: '/',
    redirect: () => (isAdmin() ? '/admin' : isOfficial() ? '/official' : isEnterprise() ? '/portal' : '/public'),
  },
  { path: '/login', component: () => import('./views/Login.vue'), meta: { title: '登录' } },
  { path: '/activate', component: () => import('./views/Activate.vue'), meta: { title: '企业账号激活' } },
  { path: '/account', component: () => import('./views/Account.vue'), meta: { need: 'any', title: '我的账号' } },
  { path: '/admin', redirect: () => (hasRole('audit_admin') ? '/admin/audit' : '/admin/accounts') },
  { path: '/admin/accounts', component: () => import('./views/Accounts.vue'), meta: { need: 'admin', title: '账号管理' } },
  { path: '/admin/security', component: () => import('./views/Security.vue'), meta: { need: 'admin', title: '安全管理' } },
  { path: '/admin/audit', component: () => import('./views/AuditDays.vue'), meta: { need: 'auditor', title: '操作留痕检索' } },
  { path: '/codes', component: () => import('./views/Codes.vue'), meta: { need: 'issuer', title: '企业账号激活码' } },
  { path: '/official', component: () => import('./views/Dashboard.vue'), meta: { need: 'official', title: '统计概览' } },
  { path: '/official/queue', component: () => import('./views/Queue.vue'), meta: { need: 'official', title: '审核队列' } },
  {
    path: '/official/records/:type/:id+',
    component: () => import('./views/Record.vue'),
    meta: { need: 'official', title: '记录详情' },
  },
  { path: '/official/sync', component: () => import('./views/Sync.vue'), meta: { need: 'official', title: '国家平台同步' } },
  {
    path: '/official/assessment',
    component: () => import('./views/Assessment.vue'),
    meta: { need: 'official', title: '地区考核' },
  },
  { path: '/official/audit', component: () => import('./views/Audit.vue'), meta: { need: 'official', title: '操作留痕' } },
  {
    path: '/official/campaigns',
    component: () => import('./views/Campaigns.vue'),
    meta: { need: 'official', title: '专项工作' },
  },
  {
    path: '/official/calendar',
    component: () => import('./views/WorkCalendar.vue'),
    meta: { need: 'official', title: '节假日安排' },
  },
  { path: '/official/qualifications', component: () => import('./views/QualificationQueue.vue'), meta: { need: 'official', title: '资质申请办理' } },
  { path: '/qualifications/:id', component: () => import('./views/QualificationView.vue'), meta: { need: 'user', title: '资质申请' } },
  { path: '/official/credit', component: () => import('./views/Credit.vue'), meta: { need: 'official', title: '诚信记录' } },
  { path: '/projects/:prj', component: () => import('./views/ProjectView.vue'), meta: { need: 'user', title: '项目全过程' } },
  { path: '/permits/:id', component: () => import('./views/PermitView.vue'), meta: { need: 'user', title: '施工许可' } },
  { path: '/portal', component: () => import('./views/Portal.vue'), meta: { need: 'enterprise', title: '本企业信息' } },
  { path: '/portal/qualifications', component: () => import('./views/Qualifications.vue'), meta: { need: 'enterprise', title: '资质申请' } },
  { path: '/portal/upload', component: () => import('./views/Upload.vue'), meta: { need: 'enterprise', title: '上传导入' } },
  { path: '/public', component: () => import('./views/PublicSearch.vue'), meta: { title: '公众查询' } },
  { path: '/public/verify', component: () => import('./views/Verify.vue'), meta: { title: '施工许可证核验' } },
  { path: '/:rest(.*)*', component: () => import('./views/NotFound.vue'), meta: { title: '页面不存在' } },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

// No page of the officials' workbench or the enterprise portal renders without a token of that kind.
router.beforeEach((to) => {
  const need = to.meta.need
  if (!need) return true
  if (!session.token) return { path: '/login', query: { next: to.fullPath } }
  // first login, an administrator's reset or an expired password; a role that needs a second factor: nothing else
  if (session.me && session.me.pending && to.path !== '/account') return { path: '/account' }
  if (need === 'any') return true
  if (need === 'admin') return isAdmin() ? true : { path: '/login', query: { denied: '1' } }
  if (need === 'auditor') return hasRole('audit_admin', 'province_official') ? true : { path: '/login', query: { denied: '1' } }
  if (need === 'issuer') {
    return hasRole('county_official', 'city_admin', 'province_admin') ? true : { path: '/login', query: { denied: '1' } }
  }
  if (need === 'user') return isOfficial() || isEnterprise() ? true : { path: '/login', query: { denied: '1' } }
  if (need === 'official' && !isOfficial()) return { path: '/login', query: { next: to.fullPath, denied: '1' } }
  if (need === 'enterprise' && !isEnterprise()) return { path: '/login', query: { next: to.fullPath, denied: '1' } }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title || ''} - 浙江省建筑市场监管与诚信信息平台`
})
