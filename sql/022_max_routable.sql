-- Trust model v2 (issue 15), any amount: per node and fee budget (scoring_state's
-- grid_budgets order) the largest amount with a route from the reference payer, searched
-- on a ladder finer than the grid. The API answers 0 above it and reads the grid's cells
-- that have a route below it, so a capacity cliff between two grid amounts no longer
-- drags the interpolation down across the whole gap. NULL: scored before this column.
ALTER TABLE scores ADD COLUMN max_routable_sat float8[];
