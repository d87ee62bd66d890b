// A single-page app: everything renders in the browser, nothing is prerendered but the
// fallback page the platform serves for every path under /dashboard/.
export const ssr = false;
export const prerender = false;
