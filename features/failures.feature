@failures
Feature: Failures - the sync survives an unreliable Braze without losing or repeating changes
  Answers 429 and 5xx and dropped connections are retried up to 5 times with exponential backoff
  within 60 seconds, honouring Retry-After; after that the sync fails, the last successful snapshot
  stays, and the next sync sends what was missed. Answers 400, 401, 403 and 404 pause the export with
  Braze's message until it is resumed. A snapshot older than 3 days forces a full sync (HOUSE-9).
  Braze's faults are set through its test control plane and apply to the cohort users endpoint only.

  Background:
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
      | dave  | dave        |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | pro  |
      | dave        | dave               | free |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"
    And the cohort "Pro users" is exported to Braze as a dynamic export
    And dave's plan becomes "pro"

  @HOUSE-9 @BRAZE-rate-limit
  Scenario: Answers 429 with Retry-After are retried until Braze accepts
    Given Braze answers the next 2 cohort users requests with 429 and the header "Retry-After: 5"
    When 15 minutes pass
    Then the last sync of the export succeeded
    And Braze answered the cohort users requests for "Pro users" with: 201, 429, 429, 201
    And the last sync of the export waited 5, 5 seconds before its retries
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

  @HOUSE-9 @BRAZE-rate-limit
  Scenario Outline: A Retry-After of <seconds> s: each retry waits the longer of it and the backoff
    Given Braze answers the next 2 cohort users requests with 429 and the header "Retry-After: <seconds>"
    When 15 minutes pass
    Then the last sync of the export succeeded
    And the last sync of the export waited <waits> seconds before its retries

    Examples:
      | seconds | waits |
      | 1       | 1, 2  |
      | 3       | 3, 3  |

  @HOUSE-9
  Scenario Outline: A burst of <times> answers <status> is retried, up to 5 retries per sync
    Given Braze answers the next <times> cohort users requests with <status>
    When 15 minutes pass
    Then the last sync of the export <result>
    And the Braze cohort "Pro users" has exactly these members: <members after the sync>
    And the export's status is "active"
    And the last sync of the export waited <waits> seconds before its retries

    Examples:
      | status | times | result    | members after the sync | waits                  |
      | 500    | 3     | succeeded | alice, bob, dave       | 1, 2, 4                |
      | 503    | 5     | succeeded | alice, bob, dave       | 1, 2, 4, 8, 16         |
      | 502    | 6     | failed    | alice, bob             | 1, 2, 4, 8, 16, gave up |

  @HOUSE-9
  Scenario: A sync that failed after its retries is caught up by the next sync, without loss or repetition
    Given Braze answers the next 6 cohort users requests with 503
    When 15 minutes pass
    Then the last sync of the export failed
    When 15 minutes pass
    Then the last sync of the export succeeded
    And the last sync of the export sent these changes:
      | distinct_id | identifier | operation |
      | dave        | dave       | add       |
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave
    And Braze accepted "dave" as an add exactly once

  @HOUSE-9
  Scenario: A dropped connection is retried
    Given Braze drops the connection of the next 1 cohort users request(s)
    When 15 minutes pass
    Then the last sync of the export succeeded
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave
    And Braze accepted "dave" as an add exactly once

  @HOUSE-9 @MIXPANEL-sync-status
  Scenario Outline: An answer <status> pauses the export with Braze's message until it is resumed
    Given Braze answers the next 1 cohort users requests with <status> and the message "<message>"
    When 15 minutes pass
    Then the export's status is "paused"
    And the export's error contains "<message>"
    And the Braze cohort "Pro users" has exactly these members: alice, bob
    When 1 hour passes
    Then the export has run 2 sync(s)
    When the export is resumed
    And 15 minutes pass
    Then the export's status is "active"
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

    Examples:
      | status | message                |
      | 400    | Bad request from Braze |
      | 401    | Unauthorized access    |
      | 403    | Forbidden by Braze     |
      | 404    | Not found in Braze     |

  @HOUSE-9
  Scenario: A snapshot older than 3 days forces a full sync
    Given the export is stopped
    When 3 days and 15 minutes pass
    And the export is resumed
    And 15 minutes pass
    Then the first sync after the export was resumed sent these changes:
      | distinct_id | identifier | operation |
      | alice       | alice      | add       |
      | bob         | bob        | add       |
      | dave        | dave       | add       |
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave

  @HOUSE-9
  Scenario: The full sync after 3 days also removes the members who left meanwhile
    Given the export is stopped
    And bob's plan becomes "free"
    When 3 days and 15 minutes pass
    And the export is resumed
    And 15 minutes pass
    Then the Braze cohort "Pro users" has exactly these members: alice, dave
    And the first sync after the export was resumed sent these changes:
      | distinct_id | identifier | operation |
      | alice       | alice      | add       |
      | dave        | dave       | add       |
      | bob         | bob        | remove    |
