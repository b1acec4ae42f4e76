-- The seed's row-level policies, the same rows visible, in a form the planner can use an index
-- for (`cargo bench --bench verbs`, BENCHMARKS.md "Full scale").
--
-- `col IN (SELECT …)` in a policy is a hashed subplan tested on every row read: a member's count
-- of the executions read all 1,000,000 of them to keep 2,286 (325 ms), and each statement's
-- subquery scanned all 30,000 workflows (about 25 ms, four times in a verb). `col = ANY (ARRAY(
-- SELECT …))` is the same test for a column that is never NULL, and its array is computed once
-- per statement (an InitPlan), so the index on the column finds the rows.
--
-- Each column here is NOT NULL (agents.owner_id, workflows.agent_id, workflow_executions and
-- execution_counts' workflow_id), so no row changes side: `x IN (s)` and `x = ANY (ARRAY(s))`
-- differ only when x is NULL or s yields a NULL, and the subqueries select primary keys and
-- NOT NULL ids.
ALTER POLICY agents_owner_access ON platform.agents
    USING (
        (owner_type = 'user' AND owner_id = auth.uid()) OR
        (owner_type = 'organization' AND owner_id = ANY (ARRAY(
            SELECT organization_id
            FROM platform.organization_members
            WHERE user_id = auth.uid()
        )))
    );

ALTER POLICY workflows_agent_access ON platform.workflows
    USING (
        agent_id = ANY (ARRAY(
            SELECT id FROM platform.agents WHERE
                (owner_type = 'user' AND owner_id = auth.uid()) OR
                (owner_type = 'organization' AND owner_id = ANY (ARRAY(
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                )))
        ))
    );

ALTER POLICY executions_workflow_access ON platform.workflow_executions
    USING (
        workflow_id = ANY (ARRAY(
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id = ANY (ARRAY(
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                )))
        ))
    );

ALTER POLICY execution_counts_workflow_access ON fleetdeck.execution_counts
    USING (
        workflow_id = ANY (ARRAY(
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id = ANY (ARRAY(
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                )))
        ))
    );
