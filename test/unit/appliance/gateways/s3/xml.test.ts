/** Unit: the XML writer and the safe parser of S3 request bodies. */
import { strict as assert } from 'node:assert';
import { child, childText, children, doc, el, escapeXml, parseXml, txt, XmlError } from '../../../../../appliance/gateways/s3/xml';

describe('s3/xml', () => {
  it('writes escaped text and skips undefined children', () => {
    assert.equal(el('A', txt('K', 'a<b&"c\''), undefined, txt('N', 3)), '<A><K>a&lt;b&amp;&quot;c&apos;</K><N>3</N></A>');
    assert.match(doc('R', txt('X', 'y')), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<R xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><X>y<\/X><\/R>$/);
    assert.equal(escapeXml('a\u0001b'), 'a&#x1;b');
  });

  it('parses a Delete body with namespaces, entities, CDATA and comments', () => {
    const x = parseXml('<?xml version="1.0"?><!-- c --><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b &#x41;&#66;</Key></Object><Object><Key><![CDATA[<raw>]]></Key><VersionId>1</VersionId></Object></Delete>');
    assert.equal(x.name, 'Delete');
    assert.equal(childText(x, 'Quiet'), 'true');
    assert.deepEqual(children(x, 'Object').map((o) => childText(o, 'Key')), ['a&b AB', '<raw>']);
    assert.equal(childText(children(x, 'Object')[1]!, 'VersionId'), '1');
    assert.equal(child(parseXml('<s3:A xmlns:s3="x"><s3:B/></s3:A>'), 'B')?.name, 'B');
  });

  it('refuses malformed documents, DOCTYPE/ENTITY declarations and unknown entities', () => {
    for (const bad of ['', '<A>', '<A></B>', '<A>x</A><B/>', '<!DOCTYPE a [<!ENTITY x "y">]><A>&x;</A>', '<A>&foo;</A>', '<A>a & b</A>', '<A b=c/>', 'text', '<A><B></A></B>']) {
      assert.throws(() => parseXml(bad), XmlError, JSON.stringify(bad));
    }
  });

  it('bounds nesting depth', () => {
    assert.throws(() => parseXml('<a>'.repeat(40) + '</a>'.repeat(40)), XmlError);
  });
});
