/** Unit: the FTP time argument of MFMT / SITE UTIME (YYYYMMDDHHMMSS[.sss], UTC). */
import { strict as assert } from 'node:assert';
import { parseFtpTime } from '../../../../fs-bridge/ftp/ftp-server';

describe('fs-bridge/ftp: MFMT time', () => {
  it('parses UTC times with optional milliseconds and refuses impossible ones', () => {
    assert.equal(parseFtpTime('20201204103009'), Date.UTC(2020, 11, 4, 10, 30, 9));
    assert.equal(parseFtpTime('20201204103009.5'), Date.UTC(2020, 11, 4, 10, 30, 9, 500));
    assert.equal(parseFtpTime('20240229000000'), Date.UTC(2024, 1, 29));
    for (const bad of ['2020120410300', '20201304103009', '20230229000000', '20201204246009', '2020-12-04', '20201204103009.1234', '']) {
      assert.equal(parseFtpTime(bad), undefined, bad);
    }
  });
});
