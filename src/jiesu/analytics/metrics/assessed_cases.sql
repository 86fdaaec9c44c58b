-- metric: assessed_cases
-- title: 考评对象工单 the cases assessed for each unit and month
-- definition: The rows of the lake's assessed table (metric assessed_rows, precomputed at
--   export: per month, each case's last callback of the month with its assessed unit and
--   response flag) for the months asked, without the excluded cases. Every count of the
--   assessment and every drill-down list is taken over exactly these rows.
-- parameters: month_from, month_to (YYYY-MM, inclusive)
SELECT
    a.month AS month,
    a.unit AS unit,
    a.case_id AS case_id,
    a.callback_id AS callback_id,
    a.called_at AS called_at,
    a.category AS category,
    a.street AS street,
    a.contacted AS contacted,
    a.resolved AS resolved,
    a.satisfaction AS satisfaction,
    a.responded AS responded
FROM assessed a
WHERE a.month BETWEEN '$month_from' AND '$month_to'
    AND NOT a.excluded
