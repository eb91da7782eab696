import t from 'tap';
t.test('a', async (t) => { t.equal(1 + 1, 2); });
t.test('b', async (t) => { t.same([1], [1]); });
