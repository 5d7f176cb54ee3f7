@matching
Feature: Matching - which Braze user a Mixpanel cohort member becomes
  Identified users are matched by external_id or by alias (SEED-6.1); anonymous users by device_id
  (SEED-6.2). A user who was anonymous and is now identified can no longer be matched by the device_id
  it had while anonymous (SEED-6.3). A cohort import only adds existing users to a cohort or removes
  them: it never creates a user. Mixpanel sends each member by the first partner id its profile has:
  the user id property, then the alias property, then (for anonymous profiles) the device id property;
  a member with none of them is skipped and never sent (HOUSE-6).

  Background:
    Given a Braze workspace with a Mixpanel data import key
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace with these identifier mappings:
      | setting            | value              |
      | user_id_property   | $braze_external_id |
      | alias_label        | mixpanel_id        |
      | alias_property     | braze_alias        |
      | device_id_property | braze_device_id    |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"

  @SEED-6.1 @BRAZE-cohort-matching
  Scenario: An identified user is matched by external_id
    Given Braze has these users:
      | user  | external_id |
      | alice | alice       |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: alice
    And the Braze match log of "Pro users" shows:
      | identifier | kind        | outcome |
      | alice      | external_id | matched |

  @SEED-6.1 @BRAZE-cohort-matching
  Scenario: A user known to Braze only by an alias is matched by that alias
    Given Braze has these users:
      | user | alias_label | alias_name |
      | bob  | mixpanel_id | mp-bob     |
    And Mixpanel has these profiles:
      | distinct_id | braze_alias | plan |
      | bob         | mp-bob      | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: bob
    And the Braze match log of "Pro users" shows:
      | identifier         | kind  | outcome |
      | mixpanel_id:mp-bob | alias | matched |

  @SEED-6.1 @BRAZE-cohort-matching
  Scenario: An alias matches only with its label: the same name under another label is another alias
    Given Braze has these users:
      | user | alias_label | alias_name |
      | bob  | crm_id      | mp-bob     |
    And Mixpanel has these profiles:
      | distinct_id | braze_alias | plan |
      | bob         | mp-bob      | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has no members
    And the Braze match log of "Pro users" shows:
      | identifier         | kind  | outcome      |
      | mixpanel_id:mp-bob | alias | unknown_user |

  @SEED-6.1 @HOUSE-6 @BRAZE-cohort-matching
  Scenario: Aliases are sent with the label the connection names
    Given the connection's alias_label becomes "crm_id"
    And Braze has these users:
      | user | alias_label | alias_name |
      | bob  | crm_id      | mp-bob     |
    And Mixpanel has these profiles:
      | distinct_id | braze_alias | plan |
      | bob         | mp-bob      | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: bob
    And the Braze match log of "Pro users" shows:
      | identifier    | kind  | outcome |
      | crm_id:mp-bob | alias | matched |

  @SEED-6.1 @BRAZE-cohort-matching
  Scenario: External ids are matched exactly, case included
    Given Braze has these users:
      | user  | external_id |
      | alice | Alice       |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has no members
    And the Braze match log of "Pro users" shows:
      | identifier | kind        | outcome      |
      | alice      | external_id | unknown_user |

  @SEED-6.2 @BRAZE-cohort-matching
  Scenario: An anonymous user is matched by device_id
    Given Braze has these users:
      | user  | device_id |
      | carol | dev-carol |
    And Mixpanel has these profiles:
      | distinct_id       | braze_device_id | plan |
      | $device:dev-carol | dev-carol       | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: carol
    And the Braze match log of "Pro users" shows:
      | identifier | kind      | outcome |
      | dev-carol  | device_id | matched |

  @SEED-6.3 @BRAZE-cohort-matching
  Scenario: An anonymous user identified with a new external_id is no longer matched by its device_id
    Given Braze has these users:
      | user | device_id |
      | erin | dev-erin  |
    And in Braze the anonymous user on device "dev-erin" is identified as "erin", which Braze reports as "identified"
    And Mixpanel has these profiles:
      | distinct_id      | braze_device_id | plan |
      | $device:dev-erin | dev-erin        | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has no members
    And the Braze match log of "Pro users" shows:
      | identifier | kind      | outcome                   |
      | dev-erin   | device_id | device_of_identified_user |
    And Braze has exactly these users: erin

  @SEED-6.3 @BRAZE-cohort-matching
  Scenario: An anonymous user merged into an existing identified user is no longer matched by its device_id
    Given Braze has these users:
      | user      | external_id | device_id |
      | frank     | frank       |           |
      | anonymous |             | dev-frank |
    And in Braze the anonymous user on device "dev-frank" is identified as "frank", which Braze reports as "merged"
    And Mixpanel has these profiles:
      | distinct_id       | braze_device_id | plan |
      | $device:dev-frank | dev-frank       | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has no members
    And the Braze match log of "Pro users" shows:
      | identifier | kind      | outcome                   |
      | dev-frank  | device_id | device_of_identified_user |
    And Braze has exactly these users: frank

  @SEED-6.3 @SEED-6.1 @BRAZE-cohort-matching
  Scenario Outline: An anonymous-then-identified user is still matched by external_id (<outcome>)
    Given Braze has these users:
      | user      | external_id | device_id |
      | <owner>   | <known>     |           |
      | anonymous |             | dev-gina  |
    And in Braze the anonymous user on device "dev-gina" is identified as "gina", which Braze reports as "<outcome>"
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | braze_device_id | plan |
      | gina        | gina               | dev-gina        | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: gina

    Examples:
      | outcome    | owner        | known |
      | identified | someone-else | other |
      | merged     | gina         | gina  |

  @BRAZE-cohort-never-creates-users @SEED-6.1 @SEED-6.2
  Scenario: Members unknown to Braze are ignored, never created
    Given Braze has these users:
      | user  | external_id |
      | alice | alice       |
    And Mixpanel has these profiles:
      | distinct_id        | $braze_external_id | braze_alias | braze_device_id | plan |
      | alice              | alice              |             |                 | pro  |
      | zoe                | zoe                |             |                 | pro  |
      | yann               |                    | mp-yann     |                 | pro  |
      | $device:dev-xavier |                    |             | dev-xavier      | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the Braze cohort "Pro users" has exactly these members: alice
    And Braze has exactly these users: alice
    And the Braze match log of "Pro users" shows:
      | identifier          | kind        | outcome      |
      | alice               | external_id | matched      |
      | zoe                 | external_id | unknown_user |
      | mixpanel_id:mp-yann | alias       | unknown_user |
      | dev-xavier          | device_id   | unknown_user |

  @HOUSE-6 @MIXPANEL-cohort-sync-matching
  Scenario: A member without any partner id is skipped, counted and never sent
    Given Braze has these users:
      | user  | external_id |
      | alice | alice       |
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | nora        |                    | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the last sync of the export skipped 1 member(s)
    And the last sync of the export sent these changes:
      | distinct_id | identifier | operation |
      | alice       | alice      | add       |
    And Braze never received the identifier "nora"
    And the Braze cohort "Pro users" has exactly these members: alice

  @HOUSE-6 @MIXPANEL-cohort-sync-matching
  Scenario: A profile identified in Mixpanel is never sent by its device id, whether or not Braze knows the device
    Given Braze has these users:
      | user  | device_id |
      | ivy   | dev-ivy   |
    And Mixpanel has these profiles:
      | distinct_id | braze_device_id | plan |
      | ivy         | dev-ivy         | pro  |
      | jack        | dev-jack        | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then the last sync of the export skipped 2 member(s)
    And Braze never received the identifier "dev-ivy"
    And Braze never received the identifier "dev-jack"
    And the Braze cohort "Pro users" has no members

  @HOUSE-6 @MIXPANEL-cohort-sync-matching
  Scenario Outline: A member is sent by its first partner id: user id, then alias, then device id (<field>)
    Given Mixpanel has these profiles:
      | distinct_id   | $braze_external_id | braze_alias | braze_device_id | plan |
      | <distinct_id> | <external_id>      | <alias>     | <device_id>     | pro  |
    When the cohort "Pro users" is exported to Braze as a one-time export
    Then Braze received "<identifier>" in the "<field>" of a cohort users request

    Examples:
      | distinct_id     | external_id | alias  | device_id | field      | identifier |
      | pat             | pat         | mp-pat | dev-pat   | user_ids   | pat        |
      | pat             |             | mp-pat | dev-pat   | aliases    | mp-pat     |
      | $device:dev-pat |             |        | dev-pat   | device_ids | dev-pat    |
