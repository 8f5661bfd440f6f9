// The DOM's globals for the hooks' jsdom tests (vitest setupFiles): @seqline/testkit/jsdom.
import '@seqline/testkit/jsdom';
