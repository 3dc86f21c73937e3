@cancel
Feature: Cancel
  The caller withdraws the call before anyone accepts (CometChat rejectCall CANCELLED, MirrorFly
  endCall, Stream leave with reason cancel). Every device still ringing is told; the end code is
  487. After the first accept the call can no longer be cancelled.

  Background:
    Given users alice, carol and dave
    And user bob with devices phone and tablet

  Scenario: The caller cancels before anyone accepts
    Given alice calls bob
    When alice cancels
    Then alice, bob/phone and bob/tablet see "call-1: ended, cancelled by alice"
    And the call ended: cancelled by alice
    And the end code of the call is 487
    When 1 minute passes
    Then nobody sees anything more

  Scenario: Hanging up before anyone accepts cancels
    Given alice places a video call to bob
    When alice hangs up
    Then alice, bob/phone and bob/tablet see "call-1: ended, cancelled by alice"
    And the call ended: cancelled by alice

  Scenario: Cancelling a group call reaches every device still ringing
    Given a group team of alice, bob, carol and dave
    And alice places a video call in team to bob, carol and dave
    And dave declines
    When alice cancels
    Then alice, bob/phone, bob/tablet and carol see "call-1: ended, cancelled by alice"
    And dave sees nothing more

  Scenario: After the first accept the call cannot be cancelled
    Given alice calls bob
    And bob/tablet accepts
    When alice cancels
    Then it fails with 422 saying "already answered"
    And the call is connected

  Scenario: After the first accept a group call cannot be cancelled either
    Given a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And carol accepts
    When alice cancels
    Then it fails with 422
    And bob's state in the call is ringing

  Scenario Outline: Only the caller may cancel: <who>
    Given alice calls bob
    When <who> cancels
    Then it fails with 403 saying "<message>"
    And the call is ringing

    Examples:
      | who       | message                  |
      | bob/phone | only the caller may cancel |
      | carol     | not a member of the call |

  Scenario: The caller's other device cannot cancel
    Given user erin with devices phone and laptop
    And erin/phone calls carol
    When erin/laptop cancels
    Then it fails with 409
    When erin/phone cancels
    Then erin/phone and carol see "call-1: ended, cancelled by erin"
    And erin/laptop sees nothing

  Scenario: Cancelling a call that has ended is refused with 410
    Given alice calls bob
    And alice cancels
    When alice cancels
    Then it fails with 410
