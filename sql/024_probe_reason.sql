-- Trust model v2 (issue 15): why the scheduler chose each probe (crawler/scheduler.py:
-- requested, never, stale, gain, sample). The population fits (liveness mu, the graph
-- prior's link: scoring/model.py) read the "sample" probes, drawn uniformly among the
-- eligible nodes, as the others over-represent the flaky nodes the value order re-probes.
-- NULL: a probe from before this column, or not planned by the scheduler (api probes).
ALTER TABLE probes ADD COLUMN reason text;
