-- metric: unit_month_counts
-- title: 三率计数 per unit and month
-- definition: Over the assessed cases (metric assessed_cases), per month and unit: assessed =
--   the number of cases; responded = cases with responded = 1; resolved = answers "yes";
--   partly = answers "partly"; satisfied = "satisfied"; basically = "basically". The rates,
--   the 0.6 factor, the weights and the ranks are applied to these counts by
--   jiesu.assessment.scoring with the policy in force (exact fractions, no SQL rounding).
--   One scan of the assessed table and one group: everything costly (the last callback per
--   case, the response window, the exclusions) was fixed at export.
-- parameters: month_from, month_to (YYYY-MM, inclusive)
SELECT
    a.month AS month,
    a.unit AS unit,
    COUNT(*) AS assessed,
    SUM(a.responded) AS responded,
    SUM(CASE WHEN a.resolved = 'yes' THEN 1 ELSE 0 END) AS resolved,
    SUM(CASE WHEN a.resolved = 'partly' THEN 1 ELSE 0 END) AS partly,
    SUM(CASE WHEN a.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied,
    SUM(CASE WHEN a.satisfaction = 'basically' THEN 1 ELSE 0 END) AS basically
FROM ($assessed_cases) a
GROUP BY a.month, a.unit
ORDER BY a.month, a.unit
