import { projectConfig } from '../../vitest.shared.ts';

// The hooks' tests render with React DOM into a jsdom document (src/test-support/jsdom.ts).
const config = projectConfig(import.meta.dirname);
for (const project of config.test?.projects ?? []) {
  if (typeof project === 'object' && 'test' in project && project.test !== undefined) project.test.setupFiles = ['src/test-support/jsdom.ts'];
}
export default config;
