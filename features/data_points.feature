@data-points
Feature: Data points - what the cohort import costs the Braze account
  Every integration counts toward the Braze account's data point volume (SEED-1.1). One cohort change
  (an add or a remove) costs one data point per matched identifier, whether or not the membership
  changed; identifiers that match nobody cost nothing (HOUSE-4).

  Background:
    Given a Braze workspace with a Mixpanel data import key
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
      | carol | carol       |

  @SEED-1.1 @HOUSE-4
  Scenario: The first sync costs one data point per matched member; unknown members cost nothing
    Given a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | pro  |
      | carol       | carol              | free |
      | zoe         | zoe                | pro  |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"
    When the cohort "Pro users" is exported to Braze as a dynamic export
    Then the workspace has 2 data point(s) from "cohort_import:mixpanel"
    And the workspace's total data points include those of the cohort import

  @HOUSE-4
  Scenario: Each add and each remove costs one data point; a sync with nothing to send costs nothing
    Given a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | pro  |
      | carol       | carol              | free |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"
    And the cohort "Pro users" is exported to Braze as a dynamic export
    When bob's plan becomes "free"
    And carol's plan becomes "pro"
    And 15 minutes pass
    Then the workspace has 4 data point(s) from "cohort_import:mixpanel"
    When 45 minutes pass
    Then the workspace has 4 data point(s) from "cohort_import:mixpanel"

  @HOUSE-4 @BRAZE-data-points
  Scenario: Each matched identifier in a change costs one data point, even when membership does not change
    When the partner sends these changes to cohort "c1", one request each:
      | operation | user_ids   |
      | add       | alice, bob |
      | add       | alice      |
      | remove    | carol      |
      | add       | zoe        |
    Then the workspace has 4 data point(s) from "cohort_import:mixpanel"
    And Braze shows the cohort "c1" named "c1" with exactly these members: alice, bob
