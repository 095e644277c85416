import unittest

from beacon_plugin import KvError, kv, testing
from beacon_plugin.kv import using_bucket


def in_bucket():
    return using_bucket(testing.bucket())


class KvTest(unittest.TestCase):
    def setUp(self):
        testing.reset()

    def test_no_bucket_outside_send_and_evaluate(self):
        with self.assertRaises(KvError) as cm:
            kv.get("x")
        self.assertEqual(cm.exception.kind, "unavailable")

    def test_get_set_add_increment_delete_with_ttls(self):
        with in_bucket():
            self.assertIsNone(kv.get("a"))
            kv.set("a", "one")
            self.assertEqual(kv.get_string("a"), "one")
            self.assertFalse(kv.add("a", "two"))
            self.assertTrue(kv.add("b", bytes([1, 2]), ttl_seconds=10))
            self.assertEqual(kv.get("b"), bytes([1, 2]))
            self.assertEqual(kv.increment("n"), 1)
            self.assertEqual(kv.increment("n", 5), 6)
            self.assertEqual(kv.increment("n", -10), -4)
            self.assertEqual(kv.get_string("n"), "-4")
            self.assertTrue(kv.delete("a"))
            self.assertFalse(kv.delete("a"))
        testing.advance_kv_clock(10_000)
        with in_bucket():
            self.assertIsNone(kv.get("b"))

    def test_counter_window_keeps_its_expiry(self):
        with in_bucket():
            self.assertEqual(kv.increment("w", 1, ttl_seconds=10), 1)
        testing.advance_kv_clock(6_000)
        with in_bucket():
            self.assertEqual(kv.increment("w", 1, ttl_seconds=10), 2)
        testing.advance_kv_clock(5_000)
        with in_bucket():
            self.assertEqual(kv.increment("w", 1, ttl_seconds=10), 1)

    def test_host_limits_surface_as_kv_error(self):
        with in_bucket():
            for call in (
                lambda: kv.set("", "x"),
                lambda: kv.set("k" * 257, "x"),
                lambda: kv.set("k", "x" * (16 * 1024 + 1)),
            ):
                with self.assertRaises(KvError) as cm:
                    call()
                self.assertEqual(cm.exception.kind, "invalid")
            kv.set("text", "abc")
            with self.assertRaises(KvError) as cm:
                kv.increment("text")
            self.assertEqual(cm.exception.kind, "invalid")
            with self.assertRaises(TypeError):
                kv.set("k", "v", ttl_seconds=-1)
            with self.assertRaises(TypeError):
                kv.set("k", 5)

    def test_quota(self):
        b = testing.bucket()
        for i in range(10_000):
            b.set(f"k{i}", b"", None)
        with in_bucket():
            with self.assertRaises(KvError) as cm:
                kv.set("one-more", "x")
            self.assertEqual(cm.exception.kind, "quota-exceeded")
            self.assertEqual(cm.exception.message, "quota exceeded: bucket holds 10000 live keys")
            kv.set("k1", "replacing is fine")

    def test_scopes_are_separate_buckets(self):
        testing.set_kv_scope("rule-a")
        with in_bucket():
            kv.set("k", "a")
        testing.set_kv_scope("rule-b")
        with in_bucket():
            self.assertIsNone(kv.get("k"))


if __name__ == "__main__":
    unittest.main()
