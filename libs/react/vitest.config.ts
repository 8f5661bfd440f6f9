import { projectConfig } from '../../vitest.shared.ts';

// The hooks against the whole stack, in jsdom, are tested in e2e (e2e/src/react/).
export default projectConfig(import.meta.dirname);
