-- 015: the contact budget (issue 17, docs/rules.md "Contact budget"). Caps,
-- sending hours and the default time zone are rule settings (budget.caps,
-- budget.quiet, budget.timezone) in the policy file or the coordinator's
-- options: no table of their own. What the store learns is one rule id,
-- quiet_hours, and a wider meaning of contact_pressure (it now also names
-- the budget's caps).
INSERT INTO rule_catalog (rule, tone, summary) VALUES
    ('quiet_hours', false, 'a touch outside its channel''s sending hours in the contact''s local time');
UPDATE rule_catalog
   SET summary = 'too many touches to a contact or account in the period, or over a cap of the contact budget'
 WHERE rule = 'contact_pressure';
