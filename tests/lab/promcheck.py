#!/usr/bin/python3
"""promcheck.py - check a Prometheus text exposition (format 0.0.4) read
from stdin, strictly, then with the prometheus_client parser (Debian's
python3-prometheus-client), and print the sum of one gauge's samples.

usage: promcheck.py GAUGE_NAME
Exit 0 and print the sum, or exit 1 with the first problem on stderr.
Strict rules (the format's own, tests/lab/t_ctl.sh relies on them):
every line is "# HELP name text", "# TYPE name type" or a sample
"name{label="value",...} value"; a family's HELP and TYPE come once and
before its samples; a counter's samples end in _total; label values are
escaped (\\, \", \\n only); no sample twice; the text ends with a newline."""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(' + NAME + r')(\{(?:' + LABEL + r')(?:,' + LABEL + r')*\})? (\S+)$')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def fail(msg):
    sys.stderr.write('promcheck: %s\n' % msg)
    sys.exit(1)


def strict(text):
    helps, types, seen = {}, {}, set()
    if not text.endswith('\n'):
        fail('the text does not end with a newline')
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            parts = line.split(' ', 3)
            if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
                fail('line %d: bad %s line: %r' % (n, parts[1], line))
            table = helps if parts[1] == 'HELP' else types
            if parts[2] in table:
                fail('line %d: second %s for %s' % (n, parts[1], parts[2]))
            if parts[1] == 'TYPE' and parts[3] not in TYPES:
                fail('line %d: unknown type %r' % (n, parts[3]))
            table[parts[2]] = parts[3]
            continue
        if line.startswith('#') or line == '':
            fail('line %d: neither HELP, TYPE nor a sample: %r' % (n, line))
        m = SAMPLE.match(line)
        if m is None:
            fail('line %d: not a sample: %r' % (n, line))
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        if name not in helps or name not in types:
            fail('line %d: %s has no HELP and TYPE before its samples' % (n, name))
        if types[name] == 'counter' and not name.endswith('_total'):
            fail('line %d: counter %s does not end in _total' % (n, name))
        try:
            v = float(value)
        except ValueError:
            fail('line %d: value %r is not a number' % (n, value))
        if types[name] == 'counter' and v < 0:
            fail('line %d: negative counter' % n)
        if (name, labels) in seen:
            fail('line %d: sample %s%s twice' % (n, name, labels))
        seen.add((name, labels))
    if not seen:
        fail('no samples')


def main():
    if len(sys.argv) != 2:
        fail('usage: promcheck.py GAUGE_NAME')
    text = sys.stdin.read()
    strict(text)
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        fail('python3-prometheus-client is not installed (make deps)')
    total, found = 0.0, False
    try:
        for fam in text_string_to_metric_families(text):
            if fam.name == sys.argv[1]:
                if fam.type != 'gauge':
                    fail('%s is a %s, not a gauge' % (fam.name, fam.type))
                for s in fam.samples:
                    total += s.value
                    found = True
    except Exception as e:  # the parser's own verdict
        fail('prometheus_client cannot parse it: %s' % e)
    if not found:
        fail('no %s samples' % sys.argv[1])
    print(int(total))


main()
