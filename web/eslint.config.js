// Flat config: Vue 3 recommended rules + type-aware typescript-eslint, formatting left to Prettier.
import skipFormatting from '@vue/eslint-config-prettier/skip-formatting'
import { vueTsConfigs, withVueTs } from '@vue/eslint-config-typescript'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'

export default withVueTs(
  // Keep the no-unsafe-* rules on everywhere: no `any` may leak, .vue files included.
  { allowComponentTypeUnsafety: false, rootDir: import.meta.dirname },
  {
    name: 'balsam/ignores',
    ignores: [
      'dist/**',
      'coverage/**',
      'playwright-report/**',
      'test-results/**',
      'src/api/schema.d.ts',
    ],
  },
  { name: 'balsam/files', files: ['**/*.{ts,mts,vue}'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommendedTypeChecked,
  {
    name: 'balsam/rules',
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'vue/component-api-style': ['error', ['script-setup']],
      'vue/block-lang': ['error', { script: { lang: 'ts' } }],
      'vue/require-typed-ref': 'error',
      // A component used but not imported renders as an unknown element, silently.
      'vue/no-undef-components': ['error', { ignorePatterns: ['^v-', '^router-'] }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // typescript-eslint cannot type a `.vue` import inside a `.ts` file (vue-tsc can, and
    // does in `npm run typecheck`): allow passing such components on, in these files only.
    name: 'balsam/vue-imports-in-ts',
    files: ['src/main.ts', 'src/router/index.ts', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    name: 'balsam/node-files',
    files: ['*.config.{js,ts}', 'e2e/**/*.ts', 'e2e-cluster/**/*.ts'],
    languageOptions: { globals: globals.node },
  },
  skipFormatting,
)
