import { describeDriver } from './support/matrix';
import { startNodeServer } from './support/servers';

describeDriver({ driver: 'line', start: () => startNodeServer('line') });
