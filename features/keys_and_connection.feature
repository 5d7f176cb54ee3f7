@keys
Feature: Keys and connection - the data import key, the REST endpoint and the Mixpanel connection
  In Braze the user generates a data import key for Mixpanel and reads the REST endpoint (SEED-2.1).
  More keys can be generated and any key invalidated (SEED-2.2). The key and the endpoint are what
  Mixpanel is given (SEED-2.3): connecting saves them after checking them with an empty users call
  (SEED-3.1, SEED-3.2). A key invalidated under a running export pauses it with Braze's message until
  it gets a new key and is resumed (HOUSE-9).

  Background:
    Given a Braze workspace

  @SEED-2.1 @SEED-2.3 @HOUSE-1
  Scenario: A new data import key comes with the REST endpoint that accepts it
    When a data import key for "mixpanel" is generated in Braze
    Then the data import key is "active" and comes with a REST endpoint
    And Braze names the partner "mixpanel" and its partner API key
    And an empty cohort users call to the REST endpoint with that key is answered 201 "success"

  @SEED-2.2
  Scenario: Several keys can be generated; invalidating one leaves the others working
    When 3 data import keys for "mixpanel" are generated in Braze
    Then Braze lists 3 different data import keys, all "active"
    When data import key 2 is invalidated in Braze
    Then Braze lists the data import keys with these statuses:
      | key | status      |
      | 1   | active      |
      | 2   | invalidated |
      | 3   | active      |
    And an empty cohort users call with data import key 2 is refused with 401 "Invalid client secret"
    And an empty cohort users call with data import key 1 is answered 201 "success"
    And an empty cohort users call with data import key 3 is answered 201 "success"

  @SEED-3.1 @SEED-3.2 @SEED-2.3
  Scenario: Connecting Mixpanel saves the key and the REST endpoint after checking them
    Given a data import key for "mixpanel" is generated in Braze
    And a Mixpanel project
    When the Mixpanel project is connected to the Braze workspace
    Then Mixpanel saved the connection
    And Braze accepted an empty cohort users call as the credentials check

  @SEED-3.2 @BRAZE-partner-errors
  Scenario: Connecting with an invalidated key is refused with Braze's message
    Given a data import key for "mixpanel" is generated in Braze
    And data import key 1 is invalidated in Braze
    And a Mixpanel project
    When the Mixpanel project tries to connect to the Braze workspace
    Then Mixpanel refuses the connection with a message containing "Invalid client secret"

  @SEED-3.2
  Scenario: A project can hold several connections, each with its own key
    Given 2 data import keys for "mixpanel" are generated in Braze
    And a Mixpanel project
    When the Mixpanel project is connected to the Braze workspace with data import key 1, named "Production"
    And the Mixpanel project is connected to the Braze workspace with data import key 2, named "Staging"
    Then Mixpanel saved 2 different connections

  @SEED-2.2 @HOUSE-9 @MIXPANEL-sync-status
  Scenario: Invalidating the key of a running export pauses it; a new key and a resume catch up
    Given a data import key for "mixpanel" is generated in Braze
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
    When data import key 1 is invalidated in Braze
    And dave's plan becomes "pro"
    And 15 minutes pass
    Then the export's status is "paused"
    And the export's error contains "Invalid client secret"
    And the Braze cohort "Pro users" has exactly these members: alice, bob
    When 1 hour passes
    Then the export has run 2 sync(s)
    When a new data import key for "mixpanel" is generated in Braze and given to the Mixpanel connection
    And the export is resumed
    And 15 minutes pass
    Then the export's status is "active"
    And the Braze cohort "Pro users" has exactly these members: alice, bob, dave
