import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  compilerOptions: {
    runes: true,
  },
  kit: {
    // A single-page app: every route renders in the browser from one fallback page,
    // which the platform serves for any path under /dashboard/.
    adapter: adapter({ fallback: 'index.html', strict: true }),
    paths: { base: '/dashboard', relative: false },
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        // Only SvelteKit's route announcer's style attribute (visually hidden live region).
        // The hash follows @sveltejs/kit's root component; the browser test fails on any
        // CSP violation, so a kit upgrade that changes it is caught.
        'style-src': [
          'self',
          'unsafe-hashes',
          'sha256-S8qMpvofolR8Mpjy4kQvEm7m1q8clzU4dfDH0AmvZjo=',
        ],
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
      },
    },
  },
};

export default config;
