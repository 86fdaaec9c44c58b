-- metric: monthly_volume
-- title: 受理量 cases registered per month, district and request type
-- definition: Every case registered (created) in the month, counted by the district it
--   concerns ('none' when not located) and its request type, whatever became of it.
-- parameters: month_from, month_to (YYYY-MM, inclusive)
SELECT
    c.month AS month,
    COALESCE(c.district, 'none') AS district,
    c.request_type AS request_type,
    COUNT(*) AS cases
FROM cases c
WHERE c.month BETWEEN '$month_from' AND '$month_to'
GROUP BY c.month, COALESCE(c.district, 'none'), c.request_type
ORDER BY month, district, request_type
