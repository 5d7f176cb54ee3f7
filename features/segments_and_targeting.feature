@segments
Feature: Segments and targeting - using an imported cohort in Braze
  In Braze a segment uses the filter Mixpanel_Cohorts (SEED-5.1) with "includes" to take the members of
  a cohort that came from Mixpanel (SEED-5.2), or "excludes" to leave them out. A saved segment is the
  audience chosen when a campaign or a Canvas is created (SEED-5.3). The segment follows the cohort as
  later syncs change it, and keeps it across a rename.

  Background:
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
      | carol | carol       |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | pro  |
      | carol       | carol              | free |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"
    And the cohort "Pro users" is exported to Braze as a dynamic export

  @SEED-5.1 @SEED-5.2
  Scenario: A segment that includes the cohort holds exactly its members
    When a Braze segment "Pro segment" is saved with the filter Mixpanel_Cohorts includes "Pro users"
    Then the segment "Pro segment" has exactly these users: alice, bob

  @SEED-5.1 @BRAZE-segment-filter
  Scenario: A segment that excludes the cohort holds every other user
    When a Braze segment "Not pro" is saved with the filter Mixpanel_Cohorts excludes "Pro users"
    Then the segment "Not pro" has exactly these users: carol

  @SEED-5.3
  Scenario Outline: A <kind> targeting the segment reaches the cohort's members
    Given a Braze segment "Pro segment" is saved with the filter Mixpanel_Cohorts includes "Pro users"
    When a <kind> "Spring offer" is created in Braze targeting the segment "Pro segment"
    Then the audience of the <kind> "Spring offer" is exactly: alice, bob

    Examples:
      | kind     |
      | campaign |
      | Canvas   |

  @SEED-5.2 @SEED-4.3
  Scenario: The segment follows the cohort as the dynamic sync changes it
    Given a Braze segment "Pro segment" is saved with the filter Mixpanel_Cohorts includes "Pro users"
    And a campaign "Spring offer" is created in Braze targeting the segment "Pro segment"
    When bob's plan becomes "free"
    And carol's plan becomes "pro"
    And 15 minutes pass
    Then the segment "Pro segment" has exactly these users: alice, carol
    And the audience of the campaign "Spring offer" is exactly: alice, carol

  @SEED-5.2 @BRAZE-segment-filter
  Scenario: A renamed cohort keeps its segment
    Given a Braze segment "Pro segment" is saved with the filter Mixpanel_Cohorts includes "Pro users"
    When the Mixpanel cohort "Pro users" is renamed "Premium users"
    And carol's plan becomes "pro"
    And 15 minutes pass
    Then Braze shows the cohort as "Premium users"
    And the segment "Pro segment" has exactly these users: alice, bob, carol
