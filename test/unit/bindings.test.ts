import { expect } from 'chai';
import { parseSecChannelBindings, secChannelBindings } from '../../lib/vocabulary/bindings.js';

describe('SEC_CHANNEL_BINDINGS', () => {
  it('round-trips application data and addresses', () => {
    const app = Buffer.from('tls-server-end-point:0123456789abcdef');
    const buf = secChannelBindings({ applicationData: app, initiatorAddrType: 2, initiatorAddress: Buffer.from([127, 0, 0, 1]) });
    expect(buf.readUInt32LE(24)).to.equal(app.length);
    const parsed = parseSecChannelBindings(buf);
    expect(parsed).to.not.be.a('string');
    const p = parsed as Exclude<typeof parsed, string>;
    expect(Buffer.from(p.applicationData).equals(app)).to.equal(true);
    expect(p.initiatorAddrType).to.equal(2);
    expect([...p.initiatorAddress]).to.deep.equal([127, 0, 0, 1]);
    expect(p.acceptorAddress.length).to.equal(0);
  });
  it('refuses lengths and offsets outside the buffer instead of reading past it', () => {
    const buf = secChannelBindings({ applicationData: Buffer.from('abc') });
    buf.writeUInt32LE(1000, 24);
    expect(parseSecChannelBindings(buf)).to.match(/outside the buffer/);
    expect(parseSecChannelBindings(Buffer.alloc(8))).to.match(/at least 32 bytes/);
  });
});
