'use strict';
// nodemailer as an application sends mail, with its own timeouts set far above the suite's T
// (connection 10 min, greeting 10 min, socket 10 min) so that only the shim can end a hang.
const nodemailer = require('nodemailer');
const h = require('./harness');

const { scenario, port } = h.options;
const TEN_MINUTES = 600000;

async function main() {
  if (scenario === 'send') {
    const transporter = nodemailer.createTransport({
      host: h.host,
      port,
      secure: false,
      ignoreTLS: true,
      connectionTimeout: TEN_MINUTES,
      greetingTimeout: TEN_MINUTES,
      socketTimeout: TEN_MINUTES,
    });
    const info = await h.measure(() =>
      transporter.sendMail({ from: 'app@example.com', to: 'ops@example.com', subject: 'report', text: 'hello' }),
    );
    return h.ok(info.response);
  }
  throw new Error(`unknown scenario ${scenario}`);
}

main().catch((err) => h.fail(err, 'rejected'));
