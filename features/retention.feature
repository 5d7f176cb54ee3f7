@retention
Feature: Retention - events sent before 1 January 2010 are removed during import
  Mixpanel removes, during import, every event timed before 2010-01-01T00:00:00Z (SEED-1.2).
  Such an event is not stored, not counted as imported, never qualifies anyone for a cohort and so
  never reaches Braze; the project's statistics count it as removed by retention (HOUSE-5).
  Event times may be given in seconds or in milliseconds since the epoch.

  @SEED-1.2 @HOUSE-5 @MIXPANEL-import
  Scenario Outline: An event at <instant>, its time in <unit>
    Given a Mixpanel project
    When an event "Purchase" of "alice" timed <time> (<instant>) is imported into Mixpanel
    Then Mixpanel reports <imported> record(s) imported
    And the Mixpanel project has stored <stored> event(s)
    And the Mixpanel project counts <removed> event(s) removed by retention

    Examples: time in seconds
      | unit    | instant              | time       | imported | stored | removed |
      | seconds | 2009-12-31T23:59:59Z | 1262303999 | 0        | 0      | 1       |
      | seconds | 2010-01-01T00:00:00Z | 1262304000 | 1        | 1      | 0       |
      | seconds | 2015-06-01T12:00:00Z | 1433160000 | 1        | 1      | 0       |

    Examples: time in milliseconds
      | unit         | instant                  | time          | imported | stored | removed |
      | milliseconds | 2009-12-31T23:59:59.999Z | 1262303999999 | 0        | 0      | 1       |
      | milliseconds | 2010-01-01T00:00:00.000Z | 1262304000000 | 1        | 1      | 0       |

  @HOUSE-5 @MIXPANEL-import
  Scenario: Times before 1971 stay rejected, as Mixpanel rejects them
    Given a Mixpanel project
    When an event "Purchase" of "alice" timed 15552000 (1970-06-30T00:00:00Z) is imported into Mixpanel
    Then Mixpanel refuses the import with status 400 and 1 failed record(s)
    And the Mixpanel project has stored 0 event(s)
    And the Mixpanel project counts 0 event(s) removed by retention

  @SEED-1.2 @HOUSE-5
  Scenario: A user whose only qualifying event is before 2010 is never in the cohort and never sent to Braze
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id |
      | alice       | alice              |
      | bob         | bob                |
    And these events are imported into Mixpanel:
      | distinct_id | event    | time                 |
      | alice       | Purchase | 2009-12-31T23:59:59Z |
      | bob         | Purchase | 2010-01-01T00:00:00Z |
    And a Mixpanel cohort "Buyers" of users who did "Purchase" at least once
    When the cohort "Buyers" is exported to Braze as a one-time export
    Then the Mixpanel cohort "Buyers" has exactly these members: bob
    And the Braze cohort "Buyers" has exactly these members: bob
    And Braze never received the identifier "alice"

  @HOUSE-5
  Scenario: A rolling retention drops events older than the retention period, relative to the clock
    Given a Mixpanel project with a rolling retention of 30 days
    When these events are imported into Mixpanel:
      | distinct_id | event    | time        |
      | alice       | Purchase | 31 days ago |
      | bob         | Purchase | 29 days ago |
    Then the Mixpanel project has stored 1 event(s)
    And the Mixpanel project counts 1 event(s) removed by retention

  @HOUSE-5
  Scenario: Events age out with the clock alone: a member whose only event left the retention window leaves the cohort
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project with a rolling retention of 30 days
    And the Mixpanel project is connected to the Braze workspace
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id |
      | alice       | alice              |
      | bob         | bob                |
    And these events are imported into Mixpanel:
      | distinct_id | event    | time        |
      | alice       | Purchase | 29 days ago |
      | bob         | Purchase | 1 day ago   |
    And a Mixpanel cohort "Buyers" of users who did "Purchase" at least once
    And the cohort "Buyers" is exported to Braze as a dynamic export
    When 2 days pass
    Then the Mixpanel cohort "Buyers" has exactly these members: bob
    And the Braze cohort "Buyers" has exactly these members: bob
