@sync
Feature: Sync - exporting a Mixpanel cohort to Braze, once or every 15 minutes
  A cohort is exported once (one-time, never updated) or dynamically (SEED-4.2). A dynamic export
  syncs when it is created and then every 15 minutes of the clock (SEED-4.3, HOUSE-8). A sync calls
  the name endpoint first (first export and after a rename), then sends the changes in requests of at
  most 1,000 identifiers: the first sync sends every member as an add, later syncs only the diff to the
  last successful snapshot, and an empty diff sends no users request (HOUSE-7). Time moves only when
  the scenario says so.

  Background:
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
      | carol | carol       |
      | dave  | dave        |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | pro  |
      | carol       | carol              | free |
      | dave        | dave               | free |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"

  @SEED-4.1 @SEED-4.2 @MIXPANEL-one-time-export
  Scenario: A one-time export copies the members of that moment and is never updated
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: alice, bob
    And the export's status is "finished"
    When dave's plan becomes "pro"
    And 1 hour passes
    Then the export has run 1 sync(s)
    And the Braze cohort "Pro users" has exactly these members: alice, bob

  @HOUSE-11 @MIXPANEL-one-time-export
  Scenario: A second one-time export brings the Braze cohort to the membership of that moment
    Given the cohort "Pro users" is exported to Braze as a one-time export
    When dave's plan becomes "pro"
    And bob's plan becomes "free"
    And the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: alice, dave

  @SEED-4.2 @SEED-4.3 @HOUSE-8
  Scenario: A dynamic export syncs when it is created and then every 15 minutes
    When the cohort "Pro users" is exported to Braze as a dynamic export
    Then the export's status is "active"
    And the export's next sync is 15 minutes after it was created
    When 14 minutes pass
    Then the export has run 1 sync(s)
    When 1 minute passes
    Then the export has synced at these times after its creation: 0m, 15m
    And the export's next sync is 30 minutes after it was created

  @SEED-4.3 @HOUSE-7
  Scenario: Later syncs send only the adds and removes since the last sync
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When dave's plan becomes "pro"
    And bob's plan becomes "free"
    And 15 minutes pass
    Then the last sync of the export sent these changes:
      | distinct_id | identifier | operation |
      | dave        | dave       | add       |
      | bob         | bob        | remove    |
    And the Braze cohort "Pro users" has exactly these members: alice, dave

  @HOUSE-7
  Scenario: The first sync sends every member as an add, after naming the cohort
    When the cohort "Pro users" is exported to Braze as a dynamic export
    Then the last sync of the export sent these changes:
      | distinct_id | identifier | operation |
      | alice       | alice      | add       |
      | bob         | bob        | add       |
    And Braze received these partner requests for the cohort, in this order:
      | endpoint     |
      | cohort name  |
      | cohort users |

  @HOUSE-7
  Scenario: A sync with nothing changed sends no users request
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When 15 minutes pass
    Then the export has run 2 sync(s)
    And the last sync of the export made 0 request(s) to Braze
    And Braze received 1 cohort users request(s) for "Pro users"

  @SEED-4.3 @HOUSE-8
  Scenario: When the clock jumps an hour, the four syncs that fell due run in order
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When dave's plan becomes "pro"
    And 1 hour passes
    Then the export has synced at these times after its creation: 0m, 15m, 30m, 45m, 60m
    And the sync at 15m after creation added: dave
    And the syncs at 30m, 45m, 60m after creation made no change
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

  @SEED-4.3 @HOUSE-8 @MIXPANEL-cohort-time-window
  Scenario: A time-window cohort changes with the clock alone, each sync evaluated at its own instant
    Given these events are imported into Mixpanel:
      | distinct_id | event    | time                            |
      | alice       | Purchase | 10 days ago                     |
      | carol       | Purchase | 29 days 23 hours 20 minutes ago |
    And a Mixpanel cohort "Recent buyers" of users who did "Purchase" at least once in the last 30 days
    And the cohort "Recent buyers" is exported to Braze as a dynamic export
    Then the Braze cohort "Recent buyers" has exactly these members: alice, carol
    When 1 hour passes
    Then the syncs at 15m, 30m after creation made no change
    And the sync at 45m after creation removed: carol
    And the Braze cohort "Recent buyers" has exactly these members: alice

  @HOUSE-7 @BRAZE-cohort-name
  Scenario: A renamed cohort is renamed in Braze before the next change, and keeps its members
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When the Mixpanel cohort "Pro users" is renamed "Premium users"
    And dave's plan becomes "pro"
    And 15 minutes pass
    Then Braze shows the cohort as "Premium users"
    And the Braze cohort "Premium users" has exactly these members: alice, bob, dave
    And since the rename Braze received these partner requests for the cohort, in this order:
      | endpoint     |
      | cohort name  |
      | cohort users |

  @HOUSE-7 @BRAZE-partner-limits
  Scenario Outline: Members are sent in requests of at most 1,000 identifiers (<members> members)
    Given Mixpanel has <members> more profiles on plan "bulk", each with a Braze external id
    And a Mixpanel cohort "Bulk" of profiles whose "plan" is "bulk"
    When the cohort "Bulk" is exported to Braze as a one-time export
    Then Braze received <requests> cohort users request(s) for "Bulk"
    And no cohort users request to Braze carried more than 1,000 identifiers
    And Braze received <members> distinct identifiers as adds

    Examples:
      | members | requests |
      | 1000    | 1        |
      | 1001    | 2        |
      | 2500    | 3        |

  @SEED-4.3 @MIXPANEL-sync-status
  Scenario: A stopped export does not sync; once resumed it catches up
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When the export is stopped
    Then the export's status is "stopped"
    When dave's plan becomes "pro"
    And 1 hour passes
    Then the export has run 1 sync(s)
    And the Braze cohort "Pro users" has exactly these members: alice, bob
    When the export is resumed
    And 15 minutes pass
    Then the export's status is "active"
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

  @SEED-4.3 @MIXPANEL-sync-status
  Scenario: "Run now" syncs at once, outside the 15-minute schedule
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When dave's plan becomes "pro"
    And the export is run now
    Then the export has run 2 sync(s)
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

  @SEED-4.3 @MIXPANEL-sync-status
  Scenario: A resumed export syncs at once, then keeps its 15-minute grid
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    And the export is stopped
    And dave's plan becomes "pro"
    When 20 minutes pass
    And the export is resumed
    Then the export has run 2 sync(s)
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave
    And the export's next sync is 30 minutes after it was created
    When 10 minutes pass
    Then the export has synced at these times after its creation: 0m, 20m, 30m

  @SEED-4.3 @MIXPANEL-sync-status
  Scenario: "Run now" leaves the 15-minute grid where it was
    Given the cohort "Pro users" is exported to Braze as a dynamic export
    When 5 minutes pass
    And the export is run now
    Then the export's next sync is 15 minutes after it was created
    When 10 minutes pass
    Then the export has synced at these times after its creation: 0m, 5m, 15m

  @HOUSE-10
  Scenario: A project holds at most 60 dynamic exports
    Given 60 cohorts "Pro 1" to "Pro 60" of profiles whose "plan" is "pro", each exported to Braze as a dynamic export
    And a Mixpanel cohort "Pro 61" of profiles whose "plan" is "pro"
    When Mixpanel is asked to export the cohort "Pro 61" to Braze as a dynamic export
    Then Mixpanel refuses it with a 4xx status
    And the project has 60 dynamic exports
