import { describeDriver } from './support/matrix';
import { startMemcached } from './support/servers';

describeDriver({ driver: 'memcached', start: startMemcached });
