-- Graph sync speed: drop the foreign keys among nodes, channels and channel_policies.
--
-- Postgres checks a foreign key with one trigger call per inserted row; on the first mainnet
-- sync (49,570 channels x 2 references + ~95,000 policies) that alone cost ~2.4 s of a 5 s
-- budget. These three tables have exactly one writer, `satrank.db.graph.sync_graph`, which
-- keeps the references whole inside its single transaction: every channel's endpoints are
-- staged as nodes in the same sync, nodes and channels are never deleted (they are marked
-- inactive / closed), and policies are only written for staged channels. The invariant is
-- checked by `satrank.db.graph.graph_integrity_problems` in the tests (including after a
-- crawler killed mid-cycle), with one set-based query instead of a trigger per row.
ALTER TABLE channels DROP CONSTRAINT channels_node1_pub_fkey;
ALTER TABLE channels DROP CONSTRAINT channels_node2_pub_fkey;
ALTER TABLE channel_policies DROP CONSTRAINT channel_policies_channel_id_fkey;
