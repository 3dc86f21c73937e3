@transfer
Feature: Blind transfer
  A member of a connected 1:1 call hands it to another user (Stringee sendTransfer, Voximplant
  blind transfer). The transferor leaves the session at once and is told the outcome; the target
  rings; the remaining party stays and is told. Transfer is allowed only for app-to-phone or
  phone-to-app calls (Stringee). If the target does not take the call, the transfer fails and the
  call ends; if the call ends first, while the target still rings, the transferor is told the
  transfer failed (487) before the call's end.

  Background:
    Given users alice and dave
    And user carol with devices phone and tablet
    And user pstn-555 with devices line
    And pstn-555 is a phone number

  Scenario: The transfer succeeds when the target accepts
    Given alice calls pstn-555
    And pstn-555 accepts
    When alice transfers the call to carol
    Then pstn-555 sees:
      """
      call-1: alice transferring to carol
      call-1: carol ringing
      """
    And carol/phone and carol/tablet see "call-1: incoming Audio call from alice (transferred by alice)"
    And the invitation carol/tablet received has:
      | info.transferred_by | alice     |
      | info.status         | connected |
    And alice sees nothing
    And alice's state in the call is transferring to carol
    When carol/tablet accepts
    Then alice sees:
      """
      call-1: transfer to carol: succeeded
      call-1: detached, transferred
      """
    And pstn-555 sees:
      """
      call-1: alice transferred
      call-1: carol joined
      """
    And carol/phone sees "call-1: detached, answered on another device"
    And carol/tablet sees nothing
    And alice's state in the call is transferred
    And the call is connected
    When pstn-555 sends DTMF "1"
    Then carol/tablet sees "call-1: DTMF "1" from pstn-555"
    When pstn-555 hangs up
    Then pstn-555 and carol/tablet see "call-1: ended, hung up by pstn-555"
    And alice sees nothing more

  Scenario: The phone side may transfer the call to an app user
    Given alice calls pstn-555
    And pstn-555 accepts
    When pstn-555 transfers the call to dave
    Then alice sees:
      """
      call-1: pstn-555 transferring to dave
      call-1: dave ringing
      """
    And dave sees "call-1: incoming Audio call from alice (transferred by pstn-555)"
    When dave accepts
    Then pstn-555 sees:
      """
      call-1: transfer to dave: succeeded
      call-1: detached, transferred
      """
    And alice sees:
      """
      call-1: pstn-555 transferred
      call-1: dave joined
      """

  @rule:transfer_app_phone_only
  Scenario Outline: Transfer between two endpoints of the same kind is refused with 403: <case>
    Given user pstn-777 with devices line
    And pstn-777 is a phone number
    And <caller> calls <callee>
    And <callee> accepts
    When <caller> transfers the call to <target>
    Then it fails with 403 saying "app-to-phone or phone-to-app"
    And nobody sees anything more

    Examples:
      | case           | caller   | callee   | target   |
      | app to app     | alice    | dave     | carol    |
      | phone to phone | pstn-555 | pstn-777 | carol    |

  Scenario: The target declining fails the transfer and ends the call
    Given alice calls pstn-555
    And pstn-555 accepts
    And alice transfers the call to carol
    When carol/phone declines
    Then alice sees:
      """
      call-1: transfer to carol: failed (603)
      call-1: ended, transfer failed (603)
      """
    And pstn-555, carol/phone and carol/tablet see "call-1: ended, transfer failed (603)"
    And the call ended: transfer failed (603)
    And the end code of the call is 603

  Scenario: The target not answering fails the transfer with 408
    Given alice calls pstn-555
    And pstn-555 accepts
    And 1 second passes
    And alice transfers the call to carol
    When 29999 ms pass
    Then nobody sees anything
    When 1 ms passes
    Then alice sees:
      """
      [31s] call-1: transfer to carol: failed (408)
      [31s] call-1: ended, transfer failed (408)
      """
    And pstn-555, carol/phone and carol/tablet see "[31s] call-1: ended, transfer failed (408)"

  Scenario: The call ending while the target rings fails the transfer, and the transferor is told
    Given alice calls pstn-555
    And pstn-555 accepts
    And alice transfers the call to carol
    When pstn-555 hangs up
    Then alice sees:
      """
      call-1: transfer to carol: failed (487)
      call-1: ended, hung up by pstn-555
      """
    And pstn-555, carol/phone and carol/tablet see "call-1: ended, hung up by pstn-555"
    And the call ended: hung up by pstn-555

  Scenario Outline: A target that cannot be rung is refused and nothing changes: <case>
    Given dave calls carol
    And carol accepts
    And alice calls pstn-555
    And pstn-555 accepts
    When alice transfers call-2 to <target>
    Then it fails with <code>
    And nobody sees anything more
    And alice's state in call-2 is joined

    Examples:
      | case                   | target      | code |
      | a busy target          | carol       | 486  |
      | oneself                | alice       | 400  |
      | an unknown user        | nobody-here | 404  |
      | the other party        | pstn-555    | 422  |

  Scenario: A target without a connected device is refused with 480
    Given carol/phone is offline
    And carol/tablet is offline
    And alice calls pstn-555
    And pstn-555 accepts
    When alice transfers the call to carol
    Then it fails with 480

  Scenario: One transfer at a time, and the transferor is out of the session
    Given alice calls pstn-555
    And pstn-555 accepts
    And alice transfers the call to carol
    When pstn-555 transfers the call to dave
    Then it fails with 422 saying "a transfer is under way"
    When alice transfers the call to dave
    Then it fails with 422
    When alice hangs up
    Then it fails with 422
    And nobody sees anything more

  Scenario: Transfer needs a connected 1:1 call
    Given alice calls pstn-555
    When alice transfers the call to carol
    Then it fails with 422
    Given a group team of alice, carol and dave
    And alice cancels
    And alice places an audio call in team to carol and dave
    And dave accepts
    When alice transfers the call to carol
    Then it fails with 422 saying "a group call"
