-- metric: category_month_counts
-- title: 分类考评计数 per first-level category and month
-- definition: Over the assessed cases (metric assessed_cases), per month and first-level
--   category (the first two digits of the category code; 'none' when uncategorised): the same
--   counts as unit_month_counts. The monthly report ranks the worst categories by these.
-- parameters: month_from, month_to (YYYY-MM, inclusive)
SELECT
    a.month AS month,
    COALESCE(SUBSTRING(a.category, 1, 2), 'none') AS category,
    COUNT(*) AS assessed,
    SUM(a.responded) AS responded,
    SUM(CASE WHEN a.resolved = 'yes' THEN 1 ELSE 0 END) AS resolved,
    SUM(CASE WHEN a.resolved = 'partly' THEN 1 ELSE 0 END) AS partly,
    SUM(CASE WHEN a.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied,
    SUM(CASE WHEN a.satisfaction = 'basically' THEN 1 ELSE 0 END) AS basically
FROM ($assessed_cases) a
GROUP BY a.month, COALESCE(SUBSTRING(a.category, 1, 2), 'none')
ORDER BY month, category
