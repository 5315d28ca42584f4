import { describeDriver } from './support/matrix';
import { startRedis } from './support/servers';

describeDriver({ driver: 'ioredis', start: startRedis, subscribe: true });
