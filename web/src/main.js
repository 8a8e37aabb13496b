import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router.js'
import { loadLabels } from './labels.js'

// names of codes first (one cached request), so no screen ever shows a raw code while they load
loadLabels().finally(() => createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount('#app'))
