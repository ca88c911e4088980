export { ensureWebBuild, WEB_DIR } from './web.build.ts';
export { webPages, type WebPagesOptions } from './web.routes.ts';
