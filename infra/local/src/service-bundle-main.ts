// A service's `npm run build`: bundles the service in the current directory (service-bundle.ts).
import { bundleService } from './service-bundle.js';

console.log(await bundleService(process.cwd()));
