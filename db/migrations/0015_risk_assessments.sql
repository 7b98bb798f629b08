-- reserved for this change; replace with its statements
SELECT 1;
