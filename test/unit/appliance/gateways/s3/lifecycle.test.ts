/**
 * Unit tests of the lifecycle configuration: what S3 accepts comes back as it was given (legacy
 * Prefix, Filter, And), what S3 refuses gets S3's error, and days end as S3 ends them.
 */
import { strict as assert } from 'node:assert';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';
import { dueAt, lifecycleXml, parseLifecycle } from '../../../../../appliance/gateways/s3/lifecycle';
import { parseXml } from '../../../../../appliance/gateways/s3/xml';

const parse = (rules: string) => parseLifecycle(parseXml(`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`));

function refused(rules: string, code: string): void {
  assert.throws(() => parse(rules), (e: unknown) => e instanceof S3Error && e.s3Code === code, `${code} expected for ${rules}`);
}

describe('s3/lifecycle: configuration', () => {
  it('answers back the rules as they were given', () => {
    const rules = [
      '<Rule><ID>legacy</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>',
      '<Rule><ID>tag</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>',
      '<Rule><ID>and</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status>'
        + '<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>',
      '<Rule><ID>mpu</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>'
        + '<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>',
    ];
    const parsed = parse(rules.join(''));
    assert.equal(parsed.length, 4);
    assert.deepEqual(parsed[2]!.filter, { prefix: 'a/', tags: [['k', 'v']], sizeGt: 10, sizeLt: undefined, form: 'and', hasPrefix: true });
    assert.equal(parsed[1]!.expiration!.date, Date.UTC(2030, 0, 1));
    const xml = lifecycleXml(parsed);
    for (const r of rules) {
      // The same elements, in S3's order (ID, filter, Status, actions).
      const again = parse(r)[0]!;
      assert.deepEqual(parseLifecycle(parseXml(xml)).find((x) => x.id === again.id), again);
    }
    assert.match(xml, /<Rule><ID>legacy<\/ID><Prefix>logs\/<\/Prefix><Status>Enabled<\/Status><Expiration><Days>30<\/Days><\/Expiration><\/Rule>/);
    assert.match(xml, /<Filter><And><Prefix>a\/<\/Prefix><Tag><Key>k<\/Key><Value>v<\/Value><\/Tag><ObjectSizeGreaterThan>10<\/ObjectSizeGreaterThan><\/And><\/Filter>/);
    assert.match(xml, /<Date>2030-01-01T00:00:00Z<\/Date>/);
    // A rule without ID gets one.
    assert.match(parse('<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>')[0]!.id, /^[0-9a-f]{32}$/);
  });

  it('refuses what S3 refuses, with its error', () => {
    const exp = '<Expiration><Days>1</Days></Expiration>';
    refused(`<Rule><ID>a</ID><Filter/><Status>enabled</Status>${exp}</Rule>`, 'MalformedXML');
    refused(`<Rule><ID>a</ID><Filter/>${exp}</Rule>`, 'MalformedXML');
    refused(`<Rule><ID>a</ID><Filter/><Status>Enabled</Status>${exp}</Rule><Rule><ID>a</ID><Filter/><Status>Enabled</Status>${exp}</Rule>`, 'InvalidArgument');
    refused(`<Rule><ID>${'x'.repeat(256)}</ID><Filter/><Status>Enabled</Status>${exp}</Rule>`, 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Date>20200101</Date></Expiration></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Date>2020-01-01T12:00:00Z</Date></Expiration></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2020-01-01T00:00:00Z</Date></Expiration></Rule>', 'MalformedXML');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status></Rule>', 'InvalidRequest');
    refused(`<Rule><ID>a</ID><Prefix>x</Prefix><Filter/><Status>Enabled</Status>${exp}</Rule>`, 'MalformedXML');
    refused(`<Rule><ID>a</ID><Filter><Prefix>x</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>${exp}</Rule>`, 'MalformedXML');
    refused(`<Rule><ID>a</ID><Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key><Value>w</Value></Tag></And></Filter><Status>Enabled</Status>${exp}</Rule>`, 'InvalidArgument');
    refused(`<Rule><ID>a</ID><Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>${exp}</Rule>`, 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>', 'InvalidRequest');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>', 'NotImplemented');
    // A bad transition is the client's error before being one the gateway cannot do.
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Transition><Date>20220927</Date><StorageClass>GLACIER</StorageClass></Transition></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Transition><Days>-3</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>', 'InvalidArgument');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><Transition><Days>30</Days></Transition></Rule>', 'MalformedXML');
    refused('<Rule><ID>a</ID><Filter/><Status>Enabled</Status><NoncurrentVersionTransition><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition></Rule>', 'MalformedXML');
    assert.throws(() => parseLifecycle(parseXml('<LifecycleConfiguration/>')), (e: unknown) => e instanceof S3Error && e.s3Code === 'MalformedXML');
    assert.throws(() => parseLifecycle(parseXml('<Lifecycle><Rule/></Lifecycle>')), (e: unknown) => e instanceof S3Error && e.s3Code === 'MalformedXML');
  });

  it('ends days at the next midnight UTC, as S3 does (or exactly, with a test day)', () => {
    const t = Date.UTC(2014, 0, 15, 10, 30);
    assert.equal(dueAt(t, 3), Date.UTC(2014, 0, 19));
    assert.equal(dueAt(Date.UTC(2014, 0, 15), 1), Date.UTC(2014, 0, 16));
    assert.equal(dueAt(t, 3, 2000), t + 6000);
  });
});
