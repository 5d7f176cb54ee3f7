@partner-api
Feature: Partner API - the two Braze endpoints Mixpanel calls
  Mixpanel calls Braze at /partners/mixpanel/cohorts (name a cohort) and /partners/mixpanel/cohorts/users
  (add or remove users) with the partner API key and the data import key in the JSON body (HOUSE-1).
  Braze answers 201 {"message": "success"}; an error is {"message": "<exact text>"} with the documented
  status, checked in this order: the body is a JSON object, the partner key, the client secret, the
  fields, the size limit of 1,000 identifiers (HOUSE-2). A users call for a cohort never named creates
  it, named after its id until it is named (HOUSE-3).
  In the bodies below, PARTNER_KEY stands for the partner API key Braze issued to Mixpanel and
  IMPORT_KEY for the workspace's data import key.

  Background:
    Given a Braze workspace with a Mixpanel data import key

  @HOUSE-2 @BRAZE-partner-errors
  Scenario Outline: The cohort users endpoint: <case>
    When the partner posts this body to the cohort users endpoint: <body>
    Then Braze answers <status> with the message "<message>"

    Examples:
      | case                                          | body                                                                                                                           | status | message                                                                                                                                          |
      | a valid empty change list                     | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "cohort_changes": []}                     | 201    | success                                                                                                                                          |
      | a body that is not a JSON object              | ["PARTNER_KEY", "IMPORT_KEY"]                                                                                                  | 400    | `cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` mapping to an array of strings, or an `aliases` object |
      | a wrong partner key                           | {"partner_api_key": "nope", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "cohort_changes": []}                            | 401    | Invalid Partner API key                                                                                                                          |
      | a wrong partner key and a wrong client secret | {"partner_api_key": "nope", "client_secret": "nope", "cohort_id": "c1", "cohort_changes": []}                                  | 401    | Invalid Partner API key                                                                                                                          |
      | a wrong partner key and no cohort_id          | {"partner_api_key": "nope", "client_secret": "IMPORT_KEY", "cohort_changes": []}                                               | 401    | Invalid Partner API key                                                                                                                          |
      | a wrong client secret                         | {"partner_api_key": "PARTNER_KEY", "client_secret": "nope", "cohort_id": "c1", "cohort_changes": []}                           | 401    | Invalid client secret                                                                                                                            |
      | a wrong client secret and a numeric cohort_id | {"partner_api_key": "PARTNER_KEY", "client_secret": "nope", "cohort_id": 7, "cohort_changes": []}                              | 401    | Invalid client secret                                                                                                                            |
      | a numeric cohort_id                           | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": 7, "cohort_changes": []}                        | 400    | `cohort_id` must be a valid string                                                                                                               |
      | cohort_changes that is not an array           | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "cohort_changes": {}}                     | 400    | `cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` mapping to an array of strings, or an `aliases` object |
      | user_ids that are not strings                 | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "cohort_changes": [{"user_ids": [1, 2]}]} | 400    | `cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` mapping to an array of strings, or an `aliases` object |

  @HOUSE-2 @BRAZE-partner-errors
  Scenario Outline: The cohort name endpoint: <case>
    When the partner posts this body to the cohort name endpoint: <body>
    Then Braze answers <status> with the message "<message>"

    Examples:
      | case                  | body                                                                                                                                                 | status | message                                                 |
      | a valid name          | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "name": "Pro users", "created_at": "2021-01-21T19:20:30+05:00"} | 201    | success                                                 |
      | a wrong partner key   | {"partner_api_key": "nope", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "name": "", "created_at": "2021-01-21T19:20:30+05:00"}                 | 401    | Invalid Partner API key                                 |
      | a wrong client secret | {"partner_api_key": "PARTNER_KEY", "client_secret": "nope", "cohort_id": "c1", "name": "", "created_at": "2021-01-21T19:20:30+05:00"}                | 401    | Invalid client secret                                   |
      | an empty name         | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "name": "", "created_at": "2021-01-21T19:20:30+05:00"}          | 400    | `name` must be a non-empty string                       |
      | a created_at not ISO  | {"partner_api_key": "PARTNER_KEY", "client_secret": "IMPORT_KEY", "cohort_id": "c1", "name": "Pro users", "created_at": "yesterday"}                 | 400    | `created_at` must be a valid time as an ISO-8601 string |

  @HOUSE-2 @BRAZE-partner-limits
  Scenario Outline: At most 1,000 identifiers in one users request, counted over all kinds (<user_ids> + <device_ids> + <aliases>)
    When the partner adds <user_ids> user_ids, <device_ids> device_ids and <aliases> aliases to cohort "c1" in one request
    Then Braze answers <status> with the message "<message>"

    Examples:
      | total | user_ids | device_ids | aliases | status | message                                                                    |
      | 1000  | 1000     | 0          | 0       | 201    | success                                                                    |
      | 1001  | 1001     | 0          | 0       | 400    | Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request |
      | 1000  | 400      | 400        | 200     | 201    | success                                                                    |
      | 1001  | 400      | 400        | 201     | 400    | Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request |

  @HOUSE-2 @BRAZE-partner-limits
  Scenario Outline: The limit counts every change object of the request together (<adds> adds + <removes> removes)
    When the partner adds <adds> user_ids and removes <removes> other user_ids of cohort "c1" in one request
    Then Braze answers <status> with the message "<message>"

    Examples:
      | adds | removes | status | message                                                                    |
      | 500  | 500     | 201    | success                                                                    |
      | 600  | 401     | 400    | Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request |

  @HOUSE-2 @BRAZE-partner-errors @BRAZE-partner-limits
  Scenario Outline: The credentials are checked before the size: 1,001 identifiers with a wrong <credential>
    When the partner adds 1001 user_ids to cohort "c1" with a wrong <credential>
    Then Braze answers 401 with the message "<message>"

    Examples:
      | credential    | message                 |
      | partner key   | Invalid Partner API key |
      | client secret | Invalid client secret   |

  @HOUSE-3 @BRAZE-cohort-name
  Scenario: A users call for a cohort never named creates it, named after its id until it is named
    Given Braze has these users:
      | user  | external_id |
      | alice | alice       |
    When the partner adds user_ids "alice" to cohort "c-77"
    Then Braze shows the cohort "c-77" named "c-77" with exactly these members: alice
    When the partner names the cohort "c-77" "Seventy-seven"
    Then Braze shows the cohort "c-77" named "Seventy-seven" with exactly these members: alice

  @HOUSE-2 @BRAZE-cohort-matching
  Scenario: Removing a user takes it out of the cohort; adding or removing twice changes nothing more
    Given Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
    When the partner adds user_ids "alice, bob" to cohort "c-9"
    And the partner adds user_ids "alice" to cohort "c-9"
    And the partner removes user_ids "bob" from cohort "c-9"
    And the partner removes user_ids "bob" from cohort "c-9"
    Then Braze shows the cohort "c-9" named "c-9" with exactly these members: alice
