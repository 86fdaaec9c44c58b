-- metric: assessed_rows
-- title: 考评对象 the assessed callbacks, precomputed at export into the lake's assessed table
-- definition: For each month M (the city's calendar month of the callback) and each case
--   called back in M, the LAST callback of the case in M counts (a reopened case called back
--   twice in one month is assessed once, on its final answer). It is assessed against the unit
--   fixed on the callback when it was exported: the lead unit at the time of the call, or for a
--   merged duplicate the master case's lead unit at that time. Callbacks with no unit
--   (consultations answered by the hotline, duplicates merged before dispatch) are left out.
--   responded = 1 when the citizen did not deny contact AND the assessed unit recorded its
--   first contact at or before the case's contact due time. excluded = the case has an
--   approved exclusion (不合理诉求剔除, whenever it was approved). `jiesu analytics refresh`
--   (and `jiesu demo generate`) write these rows to assessed/month=M/ and rewrite a month
--   whenever one of its callbacks or a case's exclusion changes, so the assessment itself is
--   one scan-and-group (metric unit_month_counts).
-- parameters: month_from, month_to (YYYY-MM, inclusive)
WITH last_callback AS (
    SELECT
        cb.*,
        ROW_NUMBER() OVER (PARTITION BY cb.month, cb.case_id ORDER BY cb.at DESC, cb.id DESC) AS rn
    FROM callbacks cb
    WHERE cb.month BETWEEN '$month_from' AND '$month_to'
)
SELECT
    l.month AS month,
    l.case_id AS case_id,
    l.id AS callback_id,
    l.at AS called_at,
    l.assessed_unit AS unit,
    l.category AS category,
    l.street AS street,
    l.contacted AS contacted,
    l.resolved AS resolved,
    l.satisfaction AS satisfaction,
    CASE
        WHEN l.contacted AND l.unit_contacted_at IS NOT NULL AND l.contact_due IS NOT NULL
            AND l.unit_contacted_at <= l.contact_due THEN 1
        ELSE 0
    END AS responded,
    CASE WHEN x.case_id IS NULL THEN FALSE ELSE TRUE END AS excluded
FROM last_callback l
LEFT JOIN (SELECT DISTINCT case_id FROM exclusions) x ON x.case_id = l.case_id
WHERE l.rn = 1
    AND l.assessed_unit IS NOT NULL
