import { describeHealthyRows } from './support/healthy';

describeHealthyRows('report');
