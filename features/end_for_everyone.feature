@end-for-everyone
Feature: End the call for everyone
  The host, or a member holding the end-call permission, ends the call for every member at once,
  ringing devices included (Stream endCall, which needs a permission). Anyone else is refused 403.

  Background:
    Given users alice, bob and dave
    And user carol with devices phone and tablet
    And a group team of alice, bob, carol and dave

  @rule:!end_for_all_host_needs_permission
  Scenario: The host ends a group call for everyone, ringing devices included
    Given alice places an audio call in team to bob and carol
    And bob accepts
    When alice ends the call for everyone
    Then alice, bob, carol/phone and carol/tablet see "call-1: ended, ended for everyone by alice"
    And the call ended: ended for everyone by alice
    And the end code of the call is 200

  @rule:!end_for_all_host_needs_permission
  Scenario: The host may end the call for everyone before anyone answered
    Given alice places a video call in team to bob and carol
    When alice ends the call for everyone
    Then alice, bob, carol/phone and carol/tablet see "call-1: ended, ended for everyone by alice"

  Scenario: A member holding the permission ends the call for everyone
    Given bob may end calls for everyone
    And alice places an audio call in team to bob and carol
    And bob accepts
    When bob ends the call for everyone
    Then alice, bob, carol/phone and carol/tablet see "call-1: ended, ended for everyone by bob"
    And the call ended: ended for everyone by bob

  Scenario Outline: Without the permission it is refused with 403: <who>
    Given alice places an audio call in team to bob and carol
    And bob accepts
    When <who> ends the call for everyone
    Then it fails with 403 saying "<message>"
    And the call is connected

    Examples:
      | who          | message                                    |
      | bob          | only the host or a holder of the end-call permission |
      | carol/tablet | only the host or a holder of the end-call permission |
      | dave         | not a member of the call                   |

  Scenario: The permission does not reach calls one is not a member of
    Given dave may end calls for everyone
    And alice places an audio call in team to bob and carol
    When dave ends the call for everyone
    Then it fails with 403 saying "not a member of the call"

  @rule:!end_for_all_host_needs_permission
  Scenario: The host who left can no longer end the call for everyone
    Given alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    And alice hangs up
    When alice ends the call for everyone
    Then it fails with 422
    And the call is connected

  @rule:!end_for_all_host_needs_permission
  Scenario: A 1:1 call ended for everyone by the caller
    Given alice calls dave
    And dave accepts
    When alice ends the call for everyone
    Then alice and dave see "call-1: ended, ended for everyone by alice"
